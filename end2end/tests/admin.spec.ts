import { test, expect, Browser } from "@playwright/test";
import { callbackUrl, exchange, password, s256, signIn } from "./helpers";

// The admin console as an operator uses it: create a user, set their password, put them in a
// group, end their session, register a client and read its one-time secret. And the other
// side: someone who is not an admin gets 403 from every console page and every admin API route.

async function signedIn(browser: Browser, user: string, pw: string, start: string) {
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto(start);
  await signIn(page, user, pw);
  await page.waitForURL((u) => u.pathname === start);
  await expect(page.locator("body[data-hydrated=true]")).toHaveCount(1);
  return { context, page };
}

test("an admin creates a user, sets their password, adds them to a group and ends their session", async ({ browser }) => {
  const stamp = Date.now() % 1_000_000;
  const user = `ada${stamp}`;
  const group = `ops${stamp}`;
  const { page: root } = await signedIn(browser, "root", password("root"), "/admin/groups");

  // A group to put the user in.
  await root.getByLabel("Group name", { exact: true }).last().fill(group);
  await root.getByRole("button", { name: "Create", exact: true }).click();
  await expect(root.getByRole("status")).toHaveText("The group was created.");
  await expect(root.locator("li.admin-group", { hasText: group })).toBeVisible();

  // The user, without a password at first.
  await root.goto("/admin/users");
  await expect(root.locator("body[data-hydrated=true]")).toHaveCount(1);
  await root.getByLabel("Username", { exact: true }).fill(user);
  await root.getByLabel("Email", { exact: true }).fill(`${user}@example.com`);
  await root.getByLabel("Display name").fill("Ada Lovelace");
  await root.getByRole("button", { name: "Create a user" }).click();
  await expect(root.getByRole("status")).toHaveText("The user was created.");
  await expect(root.getByRole("heading", { level: 1 })).toContainText(user);
  const userPage = new URL(root.url()).pathname;
  expect(userPage).toMatch(/^\/admin\/users\/\d+$/);
  await expect(root.locator("body[data-hydrated=true]")).toHaveCount(1);

  // Reset (set) the password: the user signs in with it.
  await root.getByLabel("Password (at least 8 characters)").fill("ada's first passphrase");
  await root.getByRole("button", { name: "Set a password" }).click();
  await expect(root.getByRole("status")).toHaveText("The password was set, and the user was signed out everywhere.");
  const { page: ada } = await signedIn(browser, user, "ada's first passphrase", "/account");

  // Into the group: shown on the user's page and on the groups page.
  await expect(root.locator("body[data-hydrated=true]")).toHaveCount(1);
  await root.getByLabel("Add to group").selectOption({ label: group });
  await root.getByRole("button", { name: "Add to group" }).click();
  await expect(root.getByRole("status")).toHaveText("Saved.");
  await expect(root.locator("li.admin-membership", { hasText: group })).toBeVisible();
  await root.goto("/admin/groups");
  await expect(root.locator("li.admin-group", { hasText: group }).locator("li.member")).toHaveText([new RegExp(user)]);

  // Her session, listed and ended: her browser is signed out.
  await root.goto(userPage);
  await expect(root.locator("body[data-hydrated=true]")).toHaveCount(1);
  await expect(root.locator("li.admin-session")).toHaveCount(1);
  await root.locator("li.admin-session").getByRole("button", { name: "End" }).click();
  await expect(root.getByRole("status")).toHaveText("The session was ended.");
  await expect(root.getByText("No browser is signed in.")).toBeVisible();
  await ada.goto("/account");
  await expect(ada.getByRole("heading", { name: "Sign in" })).toBeVisible();
});

test("an admin registers a client and sees its secret once; the secret works", async ({ browser, request }) => {
  const name = `Billing ${Date.now() % 1_000_000}`;
  const { page: root } = await signedIn(browser, "root", password("root"), "/admin/clients");
  await root.getByLabel("Name", { exact: true }).last().fill(name);
  await root.getByLabel("Redirect URIs (one per line)").last().fill("https://billing.example/cb");
  await root.locator("#new-client-client_credentials").check();
  await root.getByRole("button", { name: "Register", exact: true }).click();
  await expect(root.getByRole("status").first()).toHaveText("The client was registered.");
  const box = root.locator(".secret");
  await expect(box).toContainText("it will not be shown again");
  const id = (await box.locator(".client-id").textContent())!;
  const secret = (await box.locator(".client-secret").textContent())!;
  expect(secret).toMatch(/^ycs_/);
  await expect(root.locator("li.admin-client", { hasText: name })).toContainText("client_credentials");
  const token = await exchange(request, { grant_type: "client_credentials", client_id: id, client_secret: secret });
  expect(token.status).toBe(200);

  await root.reload();
  await expect(root.locator(".secret")).toHaveCount(0);
  await expect(root.getByText(secret)).toHaveCount(0);
});

test("a non-admin gets 403 on every admin page and every admin API route", async ({ browser, request }) => {
  const { context, page } = await signedIn(browser, "yvonne", password("yvonne"), "/account");
  for (const path of ["/admin/users", "/admin/users/1", "/admin/groups", "/admin/clients", "/admin/events"]) {
    const response = await page.goto(path);
    expect(response!.status(), path).toBe(403);
    await expect(page.getByRole("alert"), path).toHaveText("You do not have access to this page.");
  }

  // Her own access token (the code flow of a public client) is no admin token.
  const verifier = "q".repeat(50);
  const challenge = await s256(verifier);
  await page.goto(`/o/authorize/?response_type=code&client_id=spa&code_challenge=${challenge}&code_challenge_method=S256&state=a`);
  const consent = page.getByRole("button", { name: "Approve" });
  if (await consent.isVisible()) await consent.click();
  const code = (await callbackUrl(page)).searchParams.get("code")!;
  const tokens = await exchange(request, { grant_type: "authorization_code", code, client_id: "spa", code_verifier: verifier });
  expect(tokens.status).toBe(200);

  const doc = await (await request.get("/api/v1/openapi.json")).json();
  let routes = 0;
  for (const [path, item] of Object.entries<Record<string, unknown>>(doc.paths)) {
    const concrete = path.replace(/\{[a-z_]+\}/g, (p) => (p === "{client_id}" ? "spa" : p === "{role}" ? "r" : "1"));
    for (const method of ["get", "post", "put", "patch", "delete"].filter((m) => m in item)) {
      const r = await request.fetch(concrete, {
        method,
        headers: { Authorization: `Bearer ${tokens.body.access_token}`, "Content-Type": "application/json" },
        data: method === "get" || method === "delete" ? undefined : "{}",
      });
      expect(r.status(), `${method} ${concrete}`).toBe(403);
      expect(r.headers()["content-type"], `${method} ${concrete}`).toBe("application/problem+json");
      routes++;
    }
  }
  expect(routes).toBeGreaterThan(30);
  await context.close();
});
