// Passkeys (WebAuthn) for the forms that carry data-passkey="register" or "authenticate"
// (src/service/passkeys.rs holds the server's side). Such a form is hidden until this script
// shows it: without script, or in a browser without WebAuthn, the page's note says so instead.
// On submit the script asks the form's data-options URL for a ceremony (POST, the form's CSRF
// token), hands its options to navigator.credentials.create() or .get(), puts the ceremony id
// and the authenticator's answer (WebAuthn's JSON form, binary as base64url) into the form's
// hidden fields, and submits the form as a plain post: the server answers with a redirect.

const toBytes = (b64url) => {
  const b64 = b64url.replace(/-/g, '+').replace(/_/g, '/');
  const bin = atob(b64 + '='.repeat((4 - (b64.length % 4)) % 4));
  return Uint8Array.from(bin, (c) => c.charCodeAt(0));
};

const toB64url = (buffer) => {
  let bin = '';
  for (const byte of new Uint8Array(buffer)) bin += String.fromCharCode(byte);
  return btoa(bin).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
};

const withIds = (list) => (list || []).map((c) => ({ ...c, id: toBytes(c.id) }));

// The server's options with their binary members as bytes, as the browser's API takes them.
function creationOptions(o) {
  const pk = o.publicKey;
  return {
    publicKey: {
      ...pk,
      challenge: toBytes(pk.challenge),
      user: { ...pk.user, id: toBytes(pk.user.id) },
      excludeCredentials: withIds(pk.excludeCredentials),
    },
  };
}

function requestOptions(o) {
  const pk = o.publicKey;
  const options = { publicKey: { ...pk, challenge: toBytes(pk.challenge), allowCredentials: withIds(pk.allowCredentials) } };
  if (o.mediation) options.mediation = o.mediation;
  return options;
}

// The credential as JSON (what PublicKeyCredential.toJSON() gives where it exists).
function answer(cred) {
  const r = cred.response;
  const response = { clientDataJSON: toB64url(r.clientDataJSON) };
  if (r.attestationObject) {
    response.attestationObject = toB64url(r.attestationObject);
    if (r.getTransports) response.transports = r.getTransports();
  } else {
    response.authenticatorData = toB64url(r.authenticatorData);
    response.signature = toB64url(r.signature);
    if (r.userHandle) response.userHandle = toB64url(r.userHandle);
  }
  return {
    id: cred.id,
    rawId: toB64url(cred.rawId),
    type: cred.type,
    response,
    clientExtensionResults: cred.getClientExtensionResults ? cred.getClientExtensionResults() : {},
  };
}

function fail(form) {
  const note = form.querySelector('[data-passkey-error]');
  if (note) note.hidden = false;
  for (const b of form.querySelectorAll('button')) b.disabled = false;
}

async function run(form) {
  const note = form.querySelector('[data-passkey-error]');
  if (note) note.hidden = true;
  for (const b of form.querySelectorAll('button')) b.disabled = true;
  try {
    const body = new URLSearchParams({ csrf: form.elements.csrf.value });
    const res = await fetch(form.dataset.options, {
      method: 'POST',
      body,
      headers: { Accept: 'application/json' },
      credentials: 'same-origin',
    });
    if (!res.ok) throw new Error(`options: ${res.status}`);
    const start = JSON.parse(await res.json());
    const cred =
      form.dataset.passkey === 'register'
        ? await navigator.credentials.create(creationOptions(start.options))
        : await navigator.credentials.get(requestOptions(start.options));
    if (!cred) throw new Error('no credential');
    form.elements.ceremony.value = start.ceremony;
    form.elements.credential.value = JSON.stringify(answer(cred));
    form.submit();
  } catch (e) {
    console.warn('passkey:', e);
    fail(form);
  }
}

if (window.PublicKeyCredential && navigator.credentials) {
  for (const form of document.querySelectorAll('form[data-passkey]')) {
    form.hidden = false;
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      if (form.reportValidity()) run(form);
    });
  }
  for (const note of document.querySelectorAll('[data-passkey-unsupported]')) note.hidden = true;
}
