import http from "node:http";
import { AddressInfo } from "node:net";
import { test, expect } from "@playwright/test";
import { password, signIn } from "./helpers";

// A single-page app served from its own loopback origins, which call Yaoshi with the page's
// own `fetch`: the client `cors-spa` (.ci/test.sh) registered http://127.0.0.1:8001 as an
// allowed origin and redirect URIs on both ports; http://127.0.0.1:8002 is another origin
// (the port differs), which it did not register.
const REGISTERED = 8001;
const UNREGISTERED = 8002;

/** The app: starts the code flow with PKCE, and on its callback exchanges the code and reads
 *  /o/userinfo/, writing what happened into #result. */
function spaPage(yaoshi: string): string {
  return `<!doctype html><meta charset="utf-8"><title>spa</title><h1>spa</h1><pre id="result">working</pre>
<script type="module">
const yaoshi = ${JSON.stringify(yaoshi)};
const out = (v) => { document.getElementById("result").textContent = JSON.stringify(v); };
const b64url = (bytes) => btoa(String.fromCharCode(...new Uint8Array(bytes))).replace(/\\+/g, "-").replace(/\\//g, "_").replace(/=+$/, "");
const redirect = location.origin + "/cb";
const params = new URLSearchParams(location.search);
if (location.pathname === "/start") {
  const verifier = b64url(crypto.getRandomValues(new Uint8Array(32)));
  sessionStorage.setItem("verifier", verifier);
  const challenge = b64url(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(verifier)));
  const q = new URLSearchParams({ response_type: "code", client_id: "cors-spa", redirect_uri: redirect,
    scope: "openid profile", state: "s", code_challenge: challenge, code_challenge_method: "S256" });
  location.assign(yaoshi + "/o/authorize/?" + q);
} else if (location.pathname === "/cb") {
  const result = {};
  try {
    const r = await fetch(yaoshi + "/o/token/", { method: "POST", body: new URLSearchParams({
      grant_type: "authorization_code", code: params.get("code"), client_id: "cors-spa",
      redirect_uri: redirect, code_verifier: sessionStorage.getItem("verifier") }) });
    result.token = { status: r.status, body: await r.json() };
  } catch (e) {
    result.token = { blocked: String(e) };
  }
  const bearer = result.token.body?.access_token ?? "yat_not_a_token";
  try {
    const r = await fetch(yaoshi + "/o/userinfo/", { headers: { authorization: "Bearer " + bearer } });
    result.userinfo = { status: r.status, body: await r.json() };
  } catch (e) {
    result.userinfo = { blocked: String(e) };
  }
  out(result);
}
</script>`;
}

let servers: http.Server[] = [];

test.beforeAll(async ({ baseURL }) => {
  const page = spaPage(baseURL!);
  servers = await Promise.all(
    [REGISTERED, UNREGISTERED].map(
      (port) =>
        new Promise<http.Server>((resolve, reject) => {
          const s = http.createServer((_req, res) => {
            res.writeHead(200, { "content-type": "text/html; charset=utf-8" });
            res.end(page);
          });
          s.once("error", reject);
          s.listen(port, "127.0.0.1", () => resolve(s));
        }),
    ),
  );
  expect(servers.map((s) => (s.address() as AddressInfo).port)).toEqual([REGISTERED, UNREGISTERED]);
});

test.afterAll(async () => {
  await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
});

async function runFlow(page: import("@playwright/test").Page, port: number, signInFirst: boolean) {
  await page.goto(`http://127.0.0.1:${port}/start`);
  if (signInFirst) await signIn(page, "wendy", password("wendy"));
  const approve = page.getByRole("button", { name: "Approve" });
  await approve.or(page.locator("#result")).first().waitFor();
  if (await approve.isVisible()) await approve.click();
  await page.waitForURL((u) => u.origin === `http://127.0.0.1:${port}` && u.pathname === "/cb");
  await expect(page.locator("#result")).not.toHaveText("working", { timeout: 20_000 });
  return JSON.parse((await page.locator("#result").textContent())!);
}

test("a registered origin's page exchanges its code and reads user info with fetch", async ({ page }) => {
  const result = await runFlow(page, REGISTERED, true);
  expect(result.token.status).toBe(200);
  expect(result.token.body.access_token).toMatch(/^yat_/);
  expect(result.token.body.token_type).toBe("Bearer");
  expect(result.userinfo.status).toBe(200);
  expect(result.userinfo.body.preferred_username).toBe("wendy");
});

test("the browser blocks the same calls from an origin the client did not register", async ({ page }) => {
  const errors: string[] = [];
  page.on("console", (m) => m.type() === "error" && errors.push(m.text()));
  const result = await runFlow(page, UNREGISTERED, true);
  expect(result.token.blocked).toContain("TypeError");
  expect(result.userinfo.blocked).toContain("TypeError");
  expect(errors.join("\n")).toContain("CORS policy");
});
