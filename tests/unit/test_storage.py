"""Local storage: generated keys, atomic streamed writes, no way out of the root."""

import hashlib
import io

import pytest

from portal.storage import CHUNK, LocalStorage, StorageError


def test_streamed_write_records_size_and_hash(tmp_path):
    storage = LocalStorage(tmp_path)
    data = b"x" * (CHUNK * 2 + 17)
    blob = storage.write(storage.new_key("uploads", "zip"), io.BytesIO(data))
    assert blob.size == len(data) and blob.sha256 == hashlib.sha256(data).hexdigest()
    with storage.open(blob.key) as fh:
        assert fh.read() == data
    assert not list(tmp_path.rglob("*.part"))


def test_keys_are_generated_not_user_names(tmp_path):
    storage = LocalStorage(tmp_path)
    key = storage.new_key("downloads", "PDF")
    assert key.startswith("downloads/") and key.endswith(".pdf") and len(key.rsplit("/", 1)[1]) == 36


@pytest.mark.parametrize("key", ["../etc/passwd", "a/../../b", "/abs/path", "a//b", "Upper/x", "a b", "a\\b", ""])
def test_keys_that_could_escape_the_root_are_refused(tmp_path, key):
    with pytest.raises(StorageError):
        LocalStorage(tmp_path).path(key)


def test_failed_write_leaves_the_previous_blob_intact(tmp_path):
    storage = LocalStorage(tmp_path)
    storage.write("feeds/business.atom", b"old")

    class Broken(io.RawIOBase):
        def read(self, n=-1):
            raise OSError("disk gone")

    with pytest.raises(OSError):
        storage.write("feeds/business.atom", Broken())
    with storage.open("feeds/business.atom") as fh:
        assert fh.read() == b"old"
    assert not list(tmp_path.rglob("*.part"))
