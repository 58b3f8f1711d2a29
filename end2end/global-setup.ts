// Waits until the server answers /healthz (it may still be migrating), for at most 60 s.
export default async function globalSetup() {
  const base = process.env.YAOSHI_BASE_URL ?? "http://127.0.0.1:9000";
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    try {
      const r = await fetch(`${base}/healthz`);
      if (r.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  throw new Error(`server at ${base} did not become healthy within 60 s`);
}
