import http from "node:http";

// The fixture clients redirect to http://127.0.0.1:8000/…: a tiny server there plays the client
// app, so the browser lands on a real page after each redirect. Then wait for Yaoshi itself.
export default async function globalSetup() {
  const callbacks = http.createServer((_req, res) => {
    res.writeHead(200, { "content-type": "text/html" });
    res.end("<!doctype html><title>client</title><h1>client callback</h1>");
  });
  await new Promise<void>((resolve, reject) => {
    callbacks.once("error", (e) => reject(new Error(`cannot listen on 127.0.0.1:8000 for the client callbacks: ${e.message}`)));
    callbacks.listen(8000, "127.0.0.1", () => resolve());
  });

  // The server under test and, when the test command starts them, the upstream provider, the
  // passkey server and the instances behind the balancer (those first: nginx answers as soon as one is up).
  const instances = (process.env.YAOSHI_INSTANCES ?? "").split(" ").filter(Boolean).map((a) => `http://${a}`);
  const servers = [
    ...instances,
    process.env.YAOSHI_BASE_URL ?? "http://127.0.0.1:9000",
    process.env.YAOSHI_UPSTREAM_URL,
    process.env.YAOSHI_PASSKEY_URL,
  ].filter(
    (u): u is string => !!u,
  );
  for (const base of servers) {
    const deadline = Date.now() + 60_000;
    let healthy = false;
    while (!healthy && Date.now() < deadline) {
      try {
        healthy = (await fetch(`${base}/healthz`)).ok;
      } catch {
        // not listening yet
      }
      if (!healthy) await new Promise((resolve) => setTimeout(resolve, 250));
    }
    if (!healthy) {
      callbacks.close();
      throw new Error(`server at ${base} did not become healthy within 60 s`);
    }
  }
  return async () => new Promise<void>((resolve) => callbacks.close(() => resolve()));
}
