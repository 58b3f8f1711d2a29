import { test, expect, Page } from "@playwright/test";
import { callbackUrl, exchange } from "./helpers";

// The server under test offers WeChat website login, at the fake WeChat that .ci/test.sh starts
// (.ci/fake_wechat.py), and QQ, whose endpoints never answer: its button is only looked at.
const WECHAT = process.env.YAOSHI_WECHAT_URL ?? "";

test.skip(!WECHAT, "the test command starts the fake WeChat (YAOSHI_WECHAT_URL)");

/** The Chinese providers' buttons on the login page, in the page's language. */
const BUTTONS = {
  "en-US": [
    { id: "wechat", label: "Sign in with WeChat" },
    { id: "qq", label: "Sign in with QQ" },
  ],
  "zh-CN": [
    { id: "wechat", label: "使用 微信 登录" },
    { id: "qq", label: "使用 QQ 登录" },
  ],
};

for (const [locale, buttons] of Object.entries(BUTTONS)) {
  test(`the login page shows the Chinese providers with their icons (${locale})`, async ({ browser }) => {
    const context = await browser.newContext({ locale });
    const page = await context.newPage();
    await page.goto("/o/login/?next=/account");
    // The page names its language as the server's catalogues do: `en`, `zh-CN`.
    await expect(page.locator("html")).toHaveAttribute("lang", locale === "en-US" ? "en" : locale);
    await expect(page.locator("body[data-hydrated=true]")).toHaveCount(1);
    for (const { id, label } of buttons) {
      const link = page.getByRole("link", { name: label, exact: true });
      await expect(link).toHaveAttribute("href", `/o/login/start/${id}?next=/account`);
      // The icon comes from this server, and the browser drew it.
      const icon = link.locator("img.provider-icon");
      await expect(icon).toHaveAttribute("src", `/providers/${id}.svg`);
      await expect.poll(() => icon.evaluate((i: HTMLImageElement) => i.complete && i.naturalWidth > 0)).toBe(true);
      const served = await context.request.get(`/providers/${id}.svg`);
      expect(served.status(), `${id}.svg`).toBe(200);
      expect(served.headers()["content-type"]).toContain("image/svg+xml");
    }
    await context.close();
  });
}

test("the QQ button sends the browser to QQ's authorization endpoint", async ({ request }) => {
  const start = await request.get("/o/login/start/qq?next=/account", { maxRedirects: 0 });
  expect([302, 303]).toContain(start.status());
  const to = new URL(start.headers()["location"]);
  expect(to.origin + to.pathname).toBe("http://127.0.0.1:9/oauth2.0/authorize");
  expect(to.searchParams.get("client_id")).toBe("101000000");
  expect(to.searchParams.get("response_type")).toBe("code");
  expect(to.searchParams.get("state")).toBeTruthy();
});

/** From the login page through the fake WeChat's QR page: `name` "scans" and confirms. */
async function signInWithWechat(page: Page, name: string, base: string) {
  await expect(page.locator("body[data-hydrated=true]")).toHaveCount(1);
  await page.getByRole("link", { name: "Sign in with WeChat" }).click();
  await expect(page).toHaveURL((u) => u.origin === WECHAT && u.pathname === "/connect/qrconnect");
  const at = new URL(page.url());
  expect(at.searchParams.get("redirect_uri")).toBe(`${base}/o/login/callback/wechat`);
  expect([at.searchParams.get("response_type"), at.searchParams.get("scope")]).toEqual(["code", "snsapi_login"]);
  expect(at.searchParams.has("client_id"), "WeChat's parameter is appid").toBe(false);
  expect(at.hash).toBe("#wechat_redirect");
  await expect(page.getByRole("heading", { name: "微信登录" })).toBeVisible();
  await page.getByLabel("微信名 / WeChat name").fill(name);
  await page.getByRole("button", { name: "确认登录 / Confirm" }).click();
}

test("sign in with WeChat: a new account, then the same person again, each resuming an authorize request", async ({
  browser,
  request,
  baseURL,
}) => {
  const base = new URL(baseURL!).origin;
  const name = `lin${Date.now() % 1_000_000}`;
  const first = await browser.newContext();
  const page = await first.newPage();
  await page.goto("/o/authorize/?response_type=code&client_id=demo&state=wx1&scope=openid%20profile");
  await expect(page).toHaveURL(/\/o\/login\/\?next=/);
  await signInWithWechat(page, name, base);

  // A new identity: the account is made first, named after the WeChat nickname.
  await expect(page.getByRole("heading", { name: "Finish signing in" })).toBeVisible();
  await expect(page.getByText("WeChat", { exact: true })).toBeVisible();
  await expect(page.getByLabel("Username")).toHaveValue(`微信用户${name}`);
  await expect(page.locator("body[data-hydrated=true]")).toHaveCount(1);
  await page.getByRole("button", { name: "Create my account" }).click();

  await expect(page.getByRole("heading", { name: "Authorize Demo app" })).toBeVisible();
  await page.getByRole("button", { name: "Approve" }).click();
  const cb = await callbackUrl(page);
  expect(cb.searchParams.get("state")).toBe("wx1");
  const demo = { grant_type: "authorization_code", client_id: "demo", client_secret: "demo-secret" };
  const tokens = await exchange(request, { ...demo, code: cb.searchParams.get("code")! });
  expect(tokens.status).toBe(200);
  const me = await request.get("/o/userinfo/", { headers: { Authorization: `Bearer ${tokens.body.access_token}` } });
  const account = await me.json();
  expect(account.username).toBe(`微信用户${name}`);

  // WeChat is linked to the account (QQ is not).
  await page.goto("/account");
  await expect(page.locator("body[data-hydrated=true]")).toHaveCount(1);
  await expect(page.locator('li.identity[data-provider="wechat"]').getByRole("button", { name: "Unlink WeChat" })).toBeVisible();
  await expect(page.locator('li.identity[data-provider="qq"]').getByRole("button", { name: "Link QQ" })).toBeVisible();
  await first.close();

  // Another browser, the same person: signed straight in (no finish page), and the authorize
  // request resumes (consent was given before, so it goes back to the client at once).
  const second = await browser.newContext();
  const again = await second.newPage();
  await again.goto("/o/authorize/?response_type=code&client_id=demo&state=wx2&scope=openid%20profile");
  await expect(again).toHaveURL(/\/o\/login\/\?next=/);
  await signInWithWechat(again, name, base);
  const cb2 = await callbackUrl(again);
  expect(cb2.searchParams.get("state")).toBe("wx2");
  const tokens2 = await exchange(request, { ...demo, code: cb2.searchParams.get("code")! });
  expect(tokens2.status).toBe(200);
  const me2 = await request.get("/o/userinfo/", { headers: { Authorization: `Bearer ${tokens2.body.access_token}` } });
  expect(await me2.json()).toMatchObject({ sub: account.sub, username: `微信用户${name}` });
  await second.close();
});
