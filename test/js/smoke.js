// Smoke test: the official nats.js client does pub/sub, headers and
// request/reply against the server at process.argv[2]. Exits non-zero on any
// failure; prints "ok" on success.
const { connect, StringCodec, headers } = require("nats");

async function main() {
  const url = process.argv[2];
  const sc = StringCodec();
  const nc = await connect({ servers: url, timeout: 5000 });

  // pub/sub with headers
  const sub = nc.subscribe("js.smoke", { max: 1 });
  const h = headers();
  h.set("X-Test", "1");
  nc.publish("js.smoke", sc.encode("hello"), { headers: h });
  for await (const m of sub) {
    if (sc.decode(m.data) !== "hello" || m.headers.get("X-Test") !== "1") {
      throw new Error("pub/sub mismatch: " + sc.decode(m.data));
    }
  }

  // request/reply
  nc.subscribe("js.svc", {
    callback: (err, m) => { if (!err) m.respond(sc.encode("re:" + sc.decode(m.data))); },
  });
  await nc.flush();
  const r = await nc.request("js.svc", sc.encode("ping"), { timeout: 5000 });
  if (sc.decode(r.data) !== "re:ping") throw new Error("bad reply " + sc.decode(r.data));

  // no responders
  try {
    await nc.request("js.nobody", sc.encode("x"), { timeout: 5000 });
    throw new Error("request to nobody succeeded");
  } catch (e) {
    if (e.code !== "503") throw new Error("want no responders (503), got " + e.code + " " + e.message);
  }
  await nc.drain();
  console.log("ok");
}

main().catch((e) => { console.error(e); process.exit(1); });
