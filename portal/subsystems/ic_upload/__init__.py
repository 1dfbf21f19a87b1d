"""健保卡就醫資料上傳 (SPEC U2, U3): 檢核結果查詢, 預檢結果查詢, 預檢資料上傳, the HIS upload API."""
