import { test, expect } from "@playwright/test";

test("sign up, with errors shown beside their fields, then land on the account page", async ({ page }) => {
  await page.goto("/o/login/");
  await page.getByRole("link", { name: "Create an account" }).click();
  await expect(page.getByRole("heading", { name: "Create an account" })).toBeVisible();
  await expect(page.locator("body[data-hydrated=true]")).toHaveCount(1);

  await page.getByLabel("Username").fill("alice");
  await page.getByLabel("Email").fill("new-alice@example.com");
  await page.getByLabel("Password (at least 8 characters)").fill("a fine long password");
  await page.getByRole("button", { name: "Create account" }).click();
  // A taken name or email is "not available", without saying which.
  await expect(page.getByRole("alert")).toHaveText("that username or email is not available");

  await page.getByLabel("Username").fill("newbie");
  await page.getByLabel("Password (at least 8 characters)").fill("password123");
  await page.getByRole("button", { name: "Create account" }).click();
  await expect(page.locator("#password-error")).toContainText("most common");

  await page.getByLabel("Password (at least 8 characters)").fill("newbie's own passphrase");
  await page.getByRole("button", { name: "Create account" }).click();
  await expect(page.getByRole("heading", { name: "Your account" })).toBeVisible();
  await expect(page.locator("strong.who")).toHaveText("newbie");
});

test.describe("without JavaScript", () => {
  test.use({ javaScriptEnabled: false });

  test("sign-up works and bad input is explained", async ({ page }) => {
    await page.goto("/o/register/");
    await page.getByLabel("Username").fill("has space");
    await page.getByLabel("Password (at least 8 characters)").fill("some long password");
    await page.getByRole("button", { name: "Create account" }).click();
    await expect(page.locator(".error")).toHaveText("Check the form and try again.");
    await page.getByLabel("Username").fill("nojs-user");
    await page.getByLabel("Password (at least 8 characters)").fill("some long password");
    await page.getByRole("button", { name: "Create account" }).click();
    await expect(page.getByRole("heading", { name: "Your account" })).toBeVisible();
  });
});
