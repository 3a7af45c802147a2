// Passkeys (WebAuthn Level 3) for Keyward's pages: sign-in with a
// passkey alone (conditional UI in the username field's autofill, or the
// button), a passkey as the second step, and registration on the account
// page. Every call carries the page's CSRF token; the server keeps the
// ceremony's challenge in a sealed cookie.
(function () {
  'use strict';

  function fromB64u(s) {
    s = s.replace(/-/g, '+').replace(/_/g, '/');
    while (s.length % 4) s += '=';
    var bin = atob(s), out = new Uint8Array(bin.length);
    for (var i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
    return out.buffer;
  }

  function toB64u(buf) {
    var bytes = new Uint8Array(buf), s = '';
    for (var i = 0; i < bytes.length; i++) s += String.fromCharCode(bytes[i]);
    return btoa(s).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
  }

  // call posts to a ceremony endpoint; its messages come back in the
  // page's language (Accept-Language from <html lang>), and msgs holds the
  // page's own texts (data-msg-* of the passkey box).
  async function call(url, csrf, body, msgs) {
    var r = await fetch(url, {
      method: 'POST', credentials: 'same-origin',
      headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': csrf,
        'Accept-Language': document.documentElement.lang || 'en' },
      body: JSON.stringify(body === undefined ? {} : body)
    });
    var js = {};
    try { js = await r.json(); } catch (e) { /* not JSON */ }
    if (!r.ok) throw new Error(js.message || (msgs && msgs.msgStatus || 'The request failed ({status}).').replace('{status}', r.status));
    return js;
  }

  function requestOptions(o) {
    var pk = o.publicKey;
    pk.challenge = fromB64u(pk.challenge);
    (pk.allowCredentials || []).forEach(function (c) { c.id = fromB64u(c.id); });
    return pk;
  }

  function creationOptions(o) {
    var pk = o.publicKey;
    pk.challenge = fromB64u(pk.challenge);
    pk.user.id = fromB64u(pk.user.id);
    (pk.excludeCredentials || []).forEach(function (c) { c.id = fromB64u(c.id); });
    return pk;
  }

  function assertionJSON(c) {
    return {
      id: c.id, rawId: toB64u(c.rawId), type: c.type,
      authenticatorAttachment: c.authenticatorAttachment || undefined,
      clientExtensionResults: c.getClientExtensionResults(),
      response: {
        clientDataJSON: toB64u(c.response.clientDataJSON),
        authenticatorData: toB64u(c.response.authenticatorData),
        signature: toB64u(c.response.signature),
        userHandle: c.response.userHandle ? toB64u(c.response.userHandle) : undefined
      }
    };
  }

  function attestationJSON(c) {
    return {
      id: c.id, rawId: toB64u(c.rawId), type: c.type,
      authenticatorAttachment: c.authenticatorAttachment || undefined,
      clientExtensionResults: c.getClientExtensionResults(),
      response: {
        clientDataJSON: toB64u(c.response.clientDataJSON),
        attestationObject: toB64u(c.response.attestationObject),
        transports: c.response.getTransports ? c.response.getTransports() : []
      }
    };
  }

  function withReturn(url, box) {
    var rt = box.dataset.return;
    return rt ? url + '?return_to=' + encodeURIComponent(rt) : url;
  }

  function setup(box) {
    var errBox = box.querySelector('[data-passkey-error]');
    var csrf = box.dataset.csrf, kind = box.dataset.passkey;
    // pending is the ceremony in progress: a new one (the button while
    // the conditional request waits) aborts it. finishing is set once a
    // ceremony holds an assertion and posts it, so a late answer to a
    // superseded request, or a click meanwhile, never posts a second
    // assertion against a challenge cookie the other replaced.
    var pending = null, finishing = false;

    function show(err) {
      if (err && err.name === 'AbortError') return;
      errBox.textContent = (err && err.name === 'NotAllowedError')
        ? box.dataset.msgCancelled || 'The passkey request was cancelled or timed out.'
        : (err && err.message) || box.dataset.msgFailed || 'Something went wrong.';
      errBox.hidden = false;
    }

    async function authenticate(mediation) {
      if (finishing) return;
      if (pending) pending.abort();
      var ctl = new AbortController();
      pending = ctl;
      var opts = await call(box.dataset.begin, csrf, undefined, box.dataset);
      if (ctl.signal.aborted) return;
      var req = { publicKey: requestOptions(opts), signal: ctl.signal };
      if (mediation) req.mediation = mediation;
      var cred = await navigator.credentials.get(req);
      if (ctl.signal.aborted || finishing) return;
      finishing = true;
      errBox.hidden = true;
      var done;
      try {
        done = await call(withReturn(box.dataset.finish, box), csrf, assertionJSON(cred), box.dataset);
      } catch (err) {
        finishing = false;
        throw err;
      }
      window.location.assign(done.redirect);
    }

    async function register() {
      var name = box.querySelector('[data-passkey-name]').value.trim();
      var opts = await call(box.dataset.begin + '?name=' + encodeURIComponent(name), csrf, undefined, box.dataset);
      var cred = await navigator.credentials.create({ publicKey: creationOptions(opts) });
      var done = await call(withReturn(box.dataset.finish, box), csrf, attestationJSON(cred), box.dataset);
      window.location.assign(done.redirect);
    }

    box.hidden = false;
    if (kind === 'register') {
      box.addEventListener('submit', function (ev) {
        ev.preventDefault();
        register().catch(show);
      });
      return;
    }
    box.querySelector('[data-passkey-start]').addEventListener('click', function () {
      authenticate(null).catch(show);
    });
    if (kind === 'login' && PublicKeyCredential.isConditionalMediationAvailable) {
      PublicKeyCredential.isConditionalMediationAvailable().then(function (ok) {
        if (ok) authenticate('conditional').catch(function (err) {
          if (err && err.name !== 'AbortError' && err.name !== 'NotAllowedError') show(err);
        });
      });
    }
  }

  if (!window.PublicKeyCredential) return;
  document.querySelectorAll('[data-passkey]').forEach(setup);
})();
