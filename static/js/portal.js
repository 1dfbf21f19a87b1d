/* 健保資訊網服務系統 (VPN) — the portal's own script. ES5 only (IE11 / Edge IE mode);
   everything here is an enhancement: every page works without it. Loaded before htmx. */
(function () {
  'use strict';

  // htmx's "from:<selector>" triggers call forEach on a NodeList, which IE11 lacks.
  if (window.NodeList && !NodeList.prototype.forEach) {
    NodeList.prototype.forEach = Array.prototype.forEach;
  }

  function each(list, fn) {
    for (var i = 0; i < list.length; i++) { fn(list[i], i); }
  }

  function ready(fn) {
    if (document.readyState !== 'loading') { fn(); } else { document.addEventListener('DOMContentLoaded', fn); }
  }

  // After an in-place expand/collapse the clicked link is replaced; put keyboard focus
  // back on the new toggle so the user does not fall to the top of the page.
  var pendingFocus = null;
  document.addEventListener('htmx:beforeRequest', function (evt) {
    var elt = evt.detail && evt.detail.elt;
    pendingFocus = (elt && elt.className && /\btoggle\b/.test(elt.className)) ? elt.getAttribute('hx-target') : null;
  });
  document.addEventListener('htmx:afterSettle', function () {
    if (!pendingFocus) { return; }
    var box = document.querySelector(pendingFocus);
    var link = box && box.querySelector('.toggle');
    if (link) { link.focus(); }
    pendingFocus = null;
  });

  // htmx does not swap error responses; say what happened instead of doing nothing.
  document.addEventListener('htmx:responseError', function (evt) {
    var status = document.getElementById('htmx-status');
    if (!status) { return; }
    var xhr = evt.detail && evt.detail.xhr;
    var text = xhr && xhr.responseText ? xhr.responseText.replace(/<[^>]*>/g, ' ').replace(/\s+/g, ' ') : '';
    status.textContent = text ? text.substring(0, 200) : '系統暫時無法回應，請重新整理頁面後再試。';
    status.className = 'error-box';
  });
  document.addEventListener('htmx:sendError', function () {
    var status = document.getElementById('htmx-status');
    if (status) {
      status.textContent = '網路連線中斷，請確認網路後重新整理頁面。';
      status.className = 'error-box';
    }
  });

  // 系統公告 carousel: one notice at a time, with numbered buttons and a pause button.
  // Without this script the list simply shows all five notices.
  function Carousel(list) {
    this.items = list.querySelectorAll('li.ann');
    this.index = 0;
    this.playing = true;
    this.timer = null;
    if (this.items.length < 2) { return; }
    this.controls = document.createElement('div');
    this.controls.className = 'carousel-controls';
    this.buttons = [];
    this.build(list);
    this.show(0);
    this.start();
  }

  Carousel.prototype.build = function (list) {
    var self = this;
    each(this.items, function (item, i) {
      var b = document.createElement('button');
      b.type = 'button';
      b.className = 'secondary';
      b.appendChild(document.createTextNode(String(i + 1)));
      b.setAttribute('aria-label', '第 ' + (i + 1) + ' 則系統公告');
      b.onclick = function () { self.stop(); self.show(i); };
      self.controls.appendChild(b);
      self.buttons.push(b);
    });
    this.pause = document.createElement('button');
    this.pause.type = 'button';
    this.pause.className = 'secondary';
    this.pause.onclick = function () { if (self.playing) { self.stop(); } else { self.start(); } };
    this.controls.appendChild(this.pause);
    list.parentNode.insertBefore(this.controls, list.nextSibling);
    list.onmouseover = list.onfocusin = function () { window.clearInterval(self.timer); };
    list.onmouseout = function () { if (self.playing) { self.start(); } };
  };

  Carousel.prototype.show = function (index) {
    var self = this;
    this.index = index;
    each(this.items, function (item, i) {
      item.className = item.className.replace(/\s*is-hidden/g, '') + (i === index ? '' : ' is-hidden');
      if (i === index) { self.buttons[i].setAttribute('aria-current', 'true'); } else { self.buttons[i].removeAttribute('aria-current'); }
    });
  };

  Carousel.prototype.start = function () {
    var self = this;
    window.clearInterval(this.timer);
    this.playing = true;
    this.pause.textContent = '暫停輪播';
    this.timer = window.setInterval(function () { self.show((self.index + 1) % self.items.length); }, 8000);
  };

  Carousel.prototype.stop = function () {
    window.clearInterval(this.timer);
    this.playing = false;
    this.pause.textContent = '繼續輪播';
  };

  // The hand-off to the card agent: submit at once; the visible 繼續 button is the fallback.
  function autosubmit() {
    var form = document.querySelector('form[data-autosubmit]');
    if (form) { form.submit(); }
  }

  // Idle timeout (DESIGN.md §6): warn before the server ends the session; 「繼續使用」 keeps it.
  // Without JavaScript the server still ends it, and the next click asks to log in again.
  function IdleWatch(body) {
    this.idle = parseInt(body.getAttribute('data-idle-seconds'), 10) * 1000;
    this.warn = parseInt(body.getAttribute('data-warning-seconds'), 10) * 1000;
    this.expiredUrl = body.getAttribute('data-expired-url');
    this.box = document.getElementById('idle-warning');
    this.count = document.getElementById('idle-countdown');
    if (!this.idle || !this.box) { return; }
    var self = this;
    var form = this.box.getElementsByTagName('form')[0];
    form.onsubmit = function () { self.keepAlive(form); return false; };
    document.addEventListener('htmx:afterRequest', function () { self.restart(); });
    this.restart(this.idle);
  }

  // left: milliseconds the server says the session still has (defaults to a full idle period).
  IdleWatch.prototype.restart = function (left) {
    var self = this;
    var remaining = left || this.idle;
    window.clearTimeout(this.warnTimer);
    window.clearInterval(this.tick);
    this.box.className = this.box.className.replace(/\s*is-hidden/g, '') + ' is-hidden';
    this.deadline = new Date().getTime() + remaining;
    this.warnTimer = window.setTimeout(function () { self.showWarning(); }, Math.max(0, remaining - this.warn));
  };

  IdleWatch.prototype.showWarning = function () {
    var self = this;
    this.box.className = this.box.className.replace(/\s*is-hidden/g, '');
    this.tick = window.setInterval(function () {
      var left = Math.max(0, Math.round((self.deadline - new Date().getTime()) / 1000));
      self.count.textContent = String(left);
      if (left <= 0) { window.location.href = self.expiredUrl; }
    }, 1000);
    var button = this.box.getElementsByTagName('button')[0];
    if (button) { button.focus(); }
  };

  IdleWatch.prototype.keepAlive = function (form) {
    var self = this;
    var xhr = new XMLHttpRequest();
    xhr.open('POST', form.getAttribute('action'), true);
    xhr.setRequestHeader('Accept', 'application/json');
    xhr.setRequestHeader('Content-Type', 'application/x-www-form-urlencoded');
    xhr.setRequestHeader('X-CSRFToken', form.elements.csrf_token.value);
    xhr.onreadystatechange = function () {
      if (xhr.readyState !== 4) { return; }
      var answer = null;
      try { answer = JSON.parse(xhr.responseText); } catch (ignore) { answer = null; }
      if (xhr.status === 200 && answer && answer.seconds_left > 0) {
        self.restart(answer.seconds_left * 1000);
      } else {
        window.location.href = self.expiredUrl;
      }
    };
    xhr.send('csrf_token=' + encodeURIComponent(form.elements.csrf_token.value));
  };

  // 服務項目 tree (SPEC H4): CSS unfolds a level on hover; here keyboard focus unfolds it too
  // and Esc folds it back. The links themselves always lead to their layer page.
  function MenuTree(nav) {
    var opened = [];
    var quiet = false;
    function fold() {
      each(opened, function (li) { li.className = li.className.replace(/\s*is-open/g, ''); });
      opened = [];
    }
    nav.addEventListener('focusin', function (evt) {
      if (quiet) { return; }
      fold();
      for (var node = evt.target; node && node !== nav; node = node.parentNode) {
        if (node.tagName === 'LI' && /\bhas-sub\b/.test(node.className)) {
          node.className += ' is-open';
          opened.push(node);
        }
      }
    });
    nav.addEventListener('focusout', function (evt) {
      if (!evt.relatedTarget || !nav.contains(evt.relatedTarget)) { fold(); }
    });
    nav.addEventListener('keydown', function (evt) {
      if (evt.keyCode !== 27 || !opened.length) { return; }
      var link = opened[opened.length - 1].getElementsByTagName('a')[0];
      fold();
      quiet = true;
      if (link) { link.focus(); }
      quiet = false;
    });
  }

  ready(function () {
    each(document.querySelectorAll('[data-carousel]'), function (list) { return new Carousel(list); });
    each(document.querySelectorAll('[data-svc-menu]'), function (nav) { return new MenuTree(nav); });
    autosubmit();
    if (document.body.getAttribute('data-idle-seconds')) { return new IdleWatch(document.body); }
    return null;
  });
}());
