// Requests to the server, and the API key they carry. A key is asked for
// only when the server answers 401, checked for the scopes the dashboard
// needs before it is kept, and kept for this tab alone.

const KEY_STORE = 'tandem-api-key';
const REJECTED = 'The server did not accept that key.';

// Keyed by the missing scopes, in the order missingScopes lists them.
const MISSING = {
  query: 'This key lacks the query scope, so charts and tables stay empty.',
  admin: 'This key lacks the admin scope, so layer status and batch runs are off.',
  'query admin': 'This key lacks the query and admin scopes, so the dashboard can show nothing.',
};

const $ = (id) => document.getElementById(id);

export const storedKey = () => sessionStorage.getItem(KEY_STORE);

const bearer = (key) => (key ? { authorization: `Bearer ${key}` } : {});

function storeKey(key) {
  sessionStorage.setItem(KEY_STORE, key);
  showKeyControls();
}

/** The header's change and forget buttons: shown while a key is kept. */
export function showKeyControls() {
  $('key-controls').hidden = storedKey() === null;
}

/**
 * The scopes the dashboard needs that `key` lacks, or null when the server
 * does not know the key. Status needs admin and queries need query: the
 * server answers 401 for an unknown key and 403 for a missing scope.
 */
async function missingScopes(key) {
  const headers = bearer(key);
  const views = await fetch('/v1/views', { headers });
  if (views.status === 401) return null;
  const view = views.ok ? (await views.json()).views?.[0]?.name : undefined;
  const [status, query] = await Promise.all([
    fetch('/v1/status', { headers }),
    fetch('/v1/query', { method: 'POST', headers: { ...headers, 'content-type': 'application/json' }, body: JSON.stringify({ view: view ?? '', granularity: 'all', limit: 1 }) }),
  ]);
  if (status.status === 401 || query.status === 401) return null;
  return [query.status === 403 && 'query', status.status === 403 && 'admin'].filter(Boolean);
}

// The open prompt, shared by every request waiting for a key.
let prompt = null;

function keyMessage(text) {
  $('key-error').textContent = text;
}

/**
 * Shows the key dialog once, however many requests wait for it. Resolves
 * with the key once one with every scope is given, or one without them that
 * the user chose to keep; with null when a cancellable prompt is cancelled.
 */
export function askForKey({ reason = '', cancellable = false } = {}) {
  prompt ??= new Promise((resolve) => {
    const dialog = $('key-dialog');
    let lacking = null;
    const finish = (key) => {
      if (key !== null) storeKey(key);
      prompt = null;
      dialog.close();
      resolve(key);
    };
    keyMessage(reason);
    $('key-input').value = '';
    $('key-anyway').hidden = true;
    $('key-cancel').hidden = !cancellable;
    $('key-form').onsubmit = (event) => {
      event.preventDefault();
      void checkEntered().then((key) => {
        if (key !== null) finish(key);
      });
    };
    // The sentence and the choice to continue were about the key as it was.
    $('key-input').oninput = () => {
      $('key-anyway').hidden = true;
      lacking = null;
    };
    $('key-anyway').onclick = () => finish(lacking);
    $('key-cancel').onclick = () => finish(null);
    // Escape would close the dialog with requests still waiting on it: only a cancellable prompt closes.
    dialog.oncancel = (event) => {
      event.preventDefault();
      if (cancellable) finish(null);
    };
    if (!dialog.open) dialog.showModal();

    async function checkEntered() {
      const key = $('key-input').value.trim();
      const submit = $('key-submit');
      submit.disabled = true;
      try {
        const missing = await missingScopes(key);
        if (missing === null) {
          keyMessage(REJECTED);
          return null;
        }
        if (missing.length === 0) return key;
        lacking = key;
        keyMessage(MISSING[missing.join(' ')]);
        $('key-anyway').hidden = false;
        return null;
      } catch {
        keyMessage('The server did not answer. Try again.');
        return null;
      } finally {
        submit.disabled = false;
      }
    }
  });
  return prompt;
}

/** Lets the user replace or drop the kept key; the page starts over with the new one. */
export function initKeyControls() {
  showKeyControls();
  $('key-change').addEventListener('click', async () => {
    if ((await askForKey({ cancellable: true })) !== null) location.reload();
  });
  $('key-forget').addEventListener('click', () => {
    sessionStorage.removeItem(KEY_STORE);
    location.reload();
  });
}

/** fetch with the API key, asking for one (again) while the server answers 401. */
export async function authorizedFetch(path, init = {}) {
  for (;;) {
    const response = await fetch(path, { ...init, headers: { ...init.headers, ...bearer(storedKey()) } });
    if (response.status !== 401) return response;
    await askForKey({ reason: storedKey() === null ? '' : REJECTED });
  }
}

export async function api(path, body) {
  const response = await authorizedFetch(path, body === undefined ? {} : {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body),
  });
  const text = await response.text();
  let json;
  try {
    json = JSON.parse(text);
  } catch {
    throw new Error(`The server answered ${response.status} with something that is not JSON.`);
  }
  // The code goes with the sentence: the page tells some refusals (a time zone's) from the rest.
  if (!response.ok) throw Object.assign(new Error(json?.error?.message ?? `The server answered ${response.status}.`), { code: json?.error?.code });
  return json;
}
