import { test, expect, APIResponse, Response } from "@playwright/test";
import { callbackUrl, password, s256, signIn } from "./helpers";

// Two instances on one PostgreSQL database behind nginx, round robin: .ci/test.sh starts them,
// points YAOSHI_BASE_URL at nginx and names the instances in YAOSHI_INSTANCES. nginx says which
// instance answered in X-Upstream; the site's static files go through a balancer of their own,
// so that only the flow's requests take turns.
const instances = (process.env.YAOSHI_INSTANCES ?? "").split(" ").filter(Boolean);
test.skip(instances.length !== 2, "needs the two instances behind nginx that .ci/test.sh starts");

const REDIRECT_URI = "http://127.0.0.1:8000/lb";
// The site's static files (nginx balances them apart, see .ci/test.sh): not steps of the flow.
const ASSETS = ["/favicon.svg", "/local-time.js", "/captcha.js", "/passkey.js"];
const isAsset = (path: string) => path.startsWith("/pkg/") || ASSETS.includes(path);

test("authorize, login, consent, token, refresh, account and logout, each step on the other instance", async ({
  page,
  request,
  baseURL,
}) => {
  // Every answer Yaoshi gave, in order: the browser's and the API client's.
  const trail: { what: string; upstream: string }[] = [];
  const note = (r: Response | APIResponse, method: string) => {
    const url = new URL(r.url());
    trail.push({ what: `${method} ${url.pathname} ${r.status()}`, upstream: r.headers()["x-upstream"] ?? "none" });
  };
  page.on("response", (r) => {
    const url = new URL(r.url());
    if (url.origin === new URL(baseURL!).origin && !isAsset(url.pathname)) note(r, r.request().method());
  });

  const verifier = "balanced-" + "v".repeat(40);
  const authorize = new URLSearchParams({
    response_type: "code", client_id: "lb-spa", redirect_uri: REDIRECT_URI, scope: "openid profile", state: "lb",
    code_challenge: await s256(verifier), code_challenge_method: "S256",
  });
  await page.goto(`/o/authorize/?${authorize}`);
  await expect(page).toHaveURL(/\/o\/login\/\?next=/);
  await signIn(page, "nina", password("nina"));
  await expect(page.getByRole("heading", { name: "Authorize Balanced App" })).toBeVisible();
  await expect(page.locator("body[data-hydrated=true]")).toHaveCount(1);
  await page.getByRole("button", { name: "Approve" }).click();
  const cb = await callbackUrl(page);
  expect(cb.searchParams.get("state")).toBe("lb");

  const exchanged = await request.post("/o/token/", {
    form: {
      grant_type: "authorization_code", code: cb.searchParams.get("code")!, client_id: "lb-spa",
      redirect_uri: REDIRECT_URI, code_verifier: verifier,
    },
  });
  note(exchanged, "POST");
  expect(exchanged.status()).toBe(200);
  const tokens = await exchanged.json();
  expect(tokens.id_token.split(".")).toHaveLength(3);
  const refreshed = await request.post("/o/token/", {
    form: { grant_type: "refresh_token", refresh_token: tokens.refresh_token, client_id: "lb-spa" },
  });
  note(refreshed, "POST");
  expect(refreshed.status()).toBe(200);
  const rotated = await refreshed.json();
  expect(rotated.refresh_token).not.toBe(tokens.refresh_token);
  const me = await request.get("/o/userinfo/", { headers: { Authorization: `Bearer ${rotated.access_token}` } });
  note(me, "GET");
  expect((await me.json()).username).toBe("nina");

  await page.goto("/account");
  await expect(page.getByRole("heading", { name: "Your account" })).toBeVisible();
  await expect(page.locator("li.app", { hasText: "Balanced App" })).toBeVisible();

  await page.goto("/o/logout/");
  await expect(page.locator("body[data-hydrated=true]")).toHaveCount(1);
  await page.getByRole("button", { name: "Sign out" }).click();
  await expect(page.getByRole("status")).toHaveText("You are signed out.");
  await page.goto("/account");
  await expect(page.getByRole("heading", { name: "Sign in" })).toBeVisible();

  // Both instances answered, and no two answers in a row came from the same one.
  const listed = trail.map((t) => `${t.upstream}  ${t.what}`).join("\n");
  expect(new Set(trail.map((t) => t.upstream)), listed).toEqual(new Set(instances));
  for (let i = 1; i < trail.length; i++) {
    expect(trail[i].upstream, `answer ${i} came from the instance before it too:\n${listed}`).not.toBe(trail[i - 1].upstream);
  }
});
