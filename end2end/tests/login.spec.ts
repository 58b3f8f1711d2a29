import { test, expect } from "@playwright/test";

test("the login page renders on the server and hydrates", async ({ page }) => {
  const errors: string[] = [];
  page.on("pageerror", (e) => errors.push(e.message));
  await page.goto("/o/login/?next=%2Fo%2Fauthorize%2F%3Fresponse_type%3Dcode%26client_id%3Ddemo");
  await expect(page).toHaveTitle(/Sign in/);
  await expect(page.getByRole("heading", { name: "Sign in" })).toBeVisible();
  await expect(page.getByLabel("Username or email")).toBeVisible();
  await expect(page.getByLabel("Password")).toBeVisible();
  await expect(page.locator("input[name=next]")).toHaveValue("/o/authorize/?response_type=code&client_id=demo");
  // The WASM bundle marks the page once hydration has run.
  await expect(page.locator("body[data-hydrated=true]")).toHaveCount(1);
  await page.screenshot({ path: "test-results/login.png", fullPage: true });
  expect(errors).toEqual([]);
});

test("pages cannot be framed", async ({ request }) => {
  const r = await request.get("/o/login/");
  expect(r.status()).toBe(200);
  expect(r.headers()["x-frame-options"]).toBe("DENY");
  const csp = r.headers()["content-security-policy"];
  expect(csp).toContain("frame-ancestors 'none'");
  expect(csp).toMatch(/script-src 'self' 'nonce-[A-Za-z0-9+/=_-]+' 'wasm-unsafe-eval'/);
  expect(csp).not.toContain("unsafe-inline");
  expect(r.headers()["referrer-policy"]).toBe("no-referrer");
});
