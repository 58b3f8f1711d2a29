import { test, expect } from "@playwright/test";
import { callbackUrl, exchange, password, signIn } from "./helpers";

test("RP-initiated logout: the app's id_token_hint, a confirmation, then back to the app with state", async ({ browser, request }) => {
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto("/o/authorize/?response_type=code&client_id=logout-rp&redirect_uri=http%3A%2F%2F127.0.0.1%3A8000%2Frp&scope=openid%20profile&nonce=n1&state=s1");
  await signIn(page, "frank", password("frank"));
  const code = (await callbackUrl(page)).searchParams.get("code")!;
  const tokens = await exchange(request, {
    grant_type: "authorization_code", code, redirect_uri: "http://127.0.0.1:8000/rp", client_id: "logout-rp", client_secret: "logout-rp-secret",
  });
  expect(tokens.status).toBe(200);
  const idToken: string = tokens.body.id_token;
  expect(idToken.split(".")).toHaveLength(3);

  const params = new URLSearchParams({ id_token_hint: idToken, post_logout_redirect_uri: "http://127.0.0.1:8000/logged-out", state: "bye" });
  await page.goto(`/o/logout/?${params}`);
  await expect(page.getByText("Logout RP asks you to sign out.")).toBeVisible();
  await expect(page.locator("body[data-hydrated=true]")).toHaveCount(1);
  await page.getByRole("button", { name: "Sign out" }).click();
  const back = await callbackUrl(page);
  expect(back.pathname).toBe("/logged-out");
  expect(back.searchParams.get("state")).toBe("bye");

  await page.goto("/account");
  await expect(page.getByRole("heading", { name: "Sign in" })).toBeVisible();
});

test("an unregistered post_logout_redirect_uri is refused on the page and the user stays on this site", async ({ browser }) => {
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto("/o/login/");
  await signIn(page, "frank", password("frank"));
  await expect(page.getByRole("heading", { name: "Your Yaoshi account" })).toBeVisible();
  await page.goto("/o/logout/?client_id=logout-rp&post_logout_redirect_uri=https%3A%2F%2Fevil.example%2F");
  await expect(page.getByRole("alert")).toHaveText("post_logout_redirect_uri is not registered for this client");
  await page.getByRole("button", { name: "Sign out" }).click();
  await expect(page.getByRole("status")).toHaveText("You are signed out.");
  expect(new URL(page.url()).origin).not.toBe("https://evil.example");
});
