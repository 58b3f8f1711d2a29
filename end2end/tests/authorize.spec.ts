import { test, expect } from "@playwright/test";
import { callbackUrl, exchange, password, s256, signIn } from "./helpers";

test("confidential client: login, consent, code, token exchange", async ({ page, request }) => {
  const authorize = "/o/authorize/?response_type=code&client_id=demo&state=s1&scope=read%20profile";
  const first = await request.get(authorize, { maxRedirects: 0 });
  expect(first.status()).toBe(302);
  expect(first.headers()["location"]).toBe(
    "/o/login/?next=/o/authorize/%3Fresponse_type%3Dcode%26client_id%3Ddemo%26state%3Ds1%26scope%3Dread%2520profile",
  );

  await page.goto(authorize);
  await expect(page).toHaveURL(/\/o\/login\/\?next=/);
  await page.screenshot({ path: "test-results/login-page.png", fullPage: true });
  await signIn(page, "alice", password("alice"));

  await expect(page.getByRole("heading", { name: "Authorize Demo app" })).toBeVisible();
  await expect(page.getByText("Read your data")).toBeVisible();
  await expect(page.getByText("127.0.0.1")).toBeVisible();
  await expect(page.locator("body[data-hydrated=true]")).toHaveCount(1);
  await page.screenshot({ path: "test-results/consent-page.png", fullPage: true });
  await page.getByRole("button", { name: "Approve" }).click();

  const cb = await callbackUrl(page);
  expect(cb.pathname).toBe("/callback");
  expect(cb.searchParams.get("state")).toBe("s1");
  expect(cb.searchParams.get("iss")).toBeTruthy();
  const code = cb.searchParams.get("code")!;
  const { status, body } = await exchange(request, {
    grant_type: "authorization_code", code, client_id: "demo", client_secret: "demo-secret",
    redirect_uri: "http://127.0.0.1:8000/callback",
  });
  expect(status).toBe(200);
  expect(body.token_type).toBe("Bearer");
  expect(body.expires_in).toBe(3600);
  expect(body.scope).toBe("profile read");
  expect(body.refresh_token).toBeTruthy();
  const me = await request.get("/o/userinfo/", { headers: { Authorization: `Bearer ${body.access_token}` } });
  expect((await me.json()).username).toBe("alice");

  // Consent is remembered: the same request goes straight back to the client.
  await page.goto(authorize.replace("state=s1", "state=s2"));
  const again = await callbackUrl(page);
  expect(again.searchParams.get("state")).toBe("s2");
  expect(again.searchParams.get("code")).toBeTruthy();
});

test("public client with PKCE", async ({ page, request }) => {
  const verifier = "a".repeat(20) + "-._~" + "Z9".repeat(15);
  const challenge = await s256(verifier);
  await page.goto(`/o/authorize/?response_type=code&client_id=spa&code_challenge=${challenge}&code_challenge_method=S256&state=p`);
  await signIn(page, "bob", password("bob"));
  await page.getByRole("button", { name: "Approve" }).click();
  const code = (await callbackUrl(page)).searchParams.get("code")!;
  const wrong = await exchange(request, { grant_type: "authorization_code", code, client_id: "spa", code_verifier: "b".repeat(43) });
  expect(wrong.status).toBe(400);
  expect(wrong.body.error).toBe("invalid_grant");

  // A fresh code (the first one was spent), exchanged with the right verifier.
  await page.goto(`/o/authorize/?response_type=code&client_id=spa&code_challenge=${challenge}&code_challenge_method=S256&state=q`);
  const second = (await callbackUrl(page)).searchParams.get("code")!;
  const ok = await exchange(request, { grant_type: "authorization_code", code: second, client_id: "spa", code_verifier: verifier });
  expect(ok.status).toBe(200);
  expect(ok.body.access_token).toMatch(/^yat_/);
});

test("implicit: the token arrives in the fragment", async ({ page, request }) => {
  await page.goto("/o/authorize/?response_type=token&client_id=demo&state=imp&scope=read");
  await signIn(page, "carol", password("carol"));
  await page.getByRole("button", { name: "Approve" }).click();
  const cb = await callbackUrl(page);
  const fragment = new URLSearchParams(cb.hash.slice(1));
  expect(fragment.get("token_type")).toBe("Bearer");
  expect(fragment.get("expires_in")).toBe("600");
  expect(fragment.get("scope")).toBe("read");
  expect(fragment.get("state")).toBe("imp");
  expect(fragment.has("refresh_token")).toBe(false);
  expect(cb.search).toBe("");
  const info = await request.post("/o/introspect/", {
    form: { token: fragment.get("access_token")!, client_id: "demo", client_secret: "demo-secret" },
  });
  expect((await info.json()).active).toBe(true);
});

test("deny sends access_denied back to the client", async ({ page }) => {
  await page.goto("/o/authorize/?response_type=code&client_id=demo&state=d");
  await signIn(page, "dave", password("dave"));
  await page.getByRole("button", { name: "Deny" }).click();
  const cb = await callbackUrl(page);
  expect(cb.searchParams.get("error")).toBe("access_denied");
  expect(cb.searchParams.get("state")).toBe("d");
  expect(cb.searchParams.has("code")).toBe(false);
});

test("trusted clients skip the consent page", async ({ page }) => {
  await page.goto("/o/authorize/?response_type=code&client_id=trusted&state=t");
  await signIn(page, "erin", password("erin"));
  const cb = await callbackUrl(page);
  expect(cb.pathname).toBe("/trusted");
  expect(cb.searchParams.get("code")).toBeTruthy();
});

test("an unregistered redirect_uri shows an error page and redirects nowhere", async ({ page }) => {
  const offSite: string[] = [];
  page.on("request", (r) => { if (new URL(r.url()).hostname.includes("evil")) offSite.push(r.url()); });
  const r = await page.goto("/o/authorize/?response_type=code&client_id=demo&redirect_uri=https%3A%2F%2Fevil.example%2Fcb");
  expect(r!.status()).toBe(400);
  await expect(page.getByRole("heading", { name: "This request cannot be completed" })).toBeVisible();
  await expect(page.getByRole("alert")).toContainText("redirect_uri");
  expect(offSite).toEqual([]);
});

for (const next of ["//evil.example/x", "/\\evil.example", "https://evil.example/", "https:evil.example", "/%5Cevil.example"]) {
  test(`next=${next} cannot send the user off-site`, async ({ page, baseURL }) => {
    const offSite: string[] = [];
    page.on("request", (r) => { if (new URL(r.url()).hostname.includes("evil")) offSite.push(r.url()); });
    await page.goto(`/o/login/?next=${encodeURIComponent(next)}`);
    await signIn(page, "frank", password("frank"));
    await page.waitForURL((u) => !u.pathname.startsWith("/o/login/"));
    expect(new URL(page.url()).origin).toBe(new URL(baseURL!).origin);
    expect(offSite).toEqual([]);
  });
}

test("wrong password shows an inline error without revealing whether the user exists", async ({ page }) => {
  await page.goto("/o/login/");
  await signIn(page, "grace", "not-her-password");
  await expect(page.getByRole("alert")).toHaveText("Invalid username or password.");
  await page.getByLabel("Username or email").fill("no-such-user");
  await page.getByLabel("Password").fill("whatever-password");
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page.getByRole("alert")).toHaveText("Invalid username or password.");
});

test.describe("without JavaScript", () => {
  test.use({ javaScriptEnabled: false });

  test("login and consent still work", async ({ page, request }) => {
    await page.goto("/o/authorize/?response_type=code&client_id=demo&state=nojs");
    await signIn(page, "heidi", "wrong-password", false);
    await expect(page.getByRole("alert")).toHaveText("Invalid username or password.");
    await signIn(page, "heidi", password("heidi"), false);
    await expect(page.getByRole("heading", { name: "Authorize Demo app" })).toBeVisible();
    await page.getByRole("button", { name: "Approve" }).click();
    const cb = await callbackUrl(page);
    expect(cb.searchParams.get("state")).toBe("nojs");
    const { status } = await exchange(request, {
      grant_type: "authorization_code", code: cb.searchParams.get("code")!, client_id: "demo", client_secret: "demo-secret",
    });
    expect(status).toBe(200);
  });
});

test("a foreign page cannot frame the login page", async ({ page, baseURL }) => {
  await page.setContent(`<iframe id="f" src="${baseURL}/o/login/" width="400" height="300"></iframe>`);
  await page.waitForTimeout(1000);
  const frame = page.frames().find((f) => f !== page.mainFrame());
  expect(frame).toBeTruthy();
  // Chromium replaces a refused frame with its own error page: the form never renders there.
  expect(await frame!.getByLabel("Password").count()).toBe(0);
});

test("a form post without the CSRF token is refused", async ({ request }) => {
  const r = await request.post("/api/login", {
    form: { username: "alice", password: password("alice"), next: "/" },
    headers: { Accept: "text/html" },
  });
  expect(r.status()).toBe(403);
});
