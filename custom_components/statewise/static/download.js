// The export download page's script: fetch the zip with the Home Assistant login of this browser.
// A plain link cannot carry a token, and a link made by an automation is signed by no admin, so the
// page asks the server itself, as the person who opened it: an administrator gets the zip, anyone
// else gets "only administrators can download exports". Kept free of browser globals so that
// tests/ha/test_export_ui.py runs it under node against a real Home Assistant.
async function statewiseDownload({ exportId, origin, storage, fetch, save, say, now }) {
  const raw = storage.getItem("hassTokens");
  let tokens = null;
  try { tokens = raw ? JSON.parse(raw) : null; } catch (e) { tokens = null; }
  if (!tokens || !tokens.access_token) {
    say("Log in to Home Assistant in this browser first, then open this link again.");
    return "no_login";
  }
  async function refresh() {
    const body = new URLSearchParams({ grant_type: "refresh_token", client_id: tokens.clientId || origin + "/", refresh_token: tokens.refresh_token });
    const refreshed = await fetch(origin + "/auth/token", { method: "POST", body });
    return refreshed.ok ? (await refreshed.json()).access_token : null;
  }
  function get(access) {
    return fetch(origin + "/api/statewise/exports/" + encodeURIComponent(exportId) + ".zip", { headers: { Authorization: "Bearer " + access } });
  }
  let access = tokens.access_token;
  let refreshed = false;
  if (typeof tokens.expires === "number" && tokens.expires <= now() && tokens.refresh_token) {
    access = await refresh();
    refreshed = true;
    if (!access) {
      say("Your Home Assistant login has expired: log in again, then open this link again.");
      return "expired";
    }
  }
  let response = await get(access);
  if (response.status === 401 && tokens.refresh_token && !refreshed) {  // an access token that expired early: refresh once
    access = await refresh();
    if (access) response = await get(access);
  }
  if (response.status === 401 || response.status === 403) {
    say("Only administrators can download Statewise exports.");
    return "denied";
  }
  if (!response.ok) {
    say("This export is not there (any more).");
    return "missing";
  }
  await save(await response.blob(), "statewise-export-" + exportId + ".zip");
  say("Downloaded statewise-export-" + exportId + ".zip.");
  return "saved";
}

if (typeof module !== "undefined") {
  module.exports = { statewiseDownload };
}
