// liveproof web page: search, session player, evidence export, verify. No framework, no CDN.
"use strict";
const app = document.getElementById("app");
const token = () => localStorage.getItem("liveproof-token") || "";
const clock = (ms) => new Date(ms).toISOString().substring(11, 23);
const esc = (s) => String(s).replace(/[&<>"]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[c]);

// A token can arrive in the fragment (#token=...), e.g. from a link the archive operator sends.
const m = location.hash.match(/token=([^&]+)/);
if (m) { localStorage.setItem("liveproof-token", decodeURIComponent(m[1])); location.hash = "#/"; }
document.getElementById("token-btn").onclick = () => {
  const t = prompt("API token (liveproof token create)", token());
  if (t !== null) localStorage.setItem("liveproof-token", t.trim());
};

async function api(path, opts = {}) {
  const headers = Object.assign({}, opts.headers || {});
  if (token()) headers["Authorization"] = "Bearer " + token();
  const r = await fetch(path, Object.assign({}, opts, { headers }));
  if (!r.ok) {
    let msg = r.status + "";
    try { msg = (await r.json()).error.message; } catch (_) {}
    throw new Error(msg);
  }
  return r;
}

function show(id) {
  app.replaceChildren(document.getElementById(id).content.cloneNode(true));
}

function searchPage(q) {
  show("t-search");
  const input = document.getElementById("q");
  input.value = q || "";
  document.getElementById("search-form").onsubmit = (e) => {
    e.preventDefault();
    location.hash = "#/search/" + encodeURIComponent(input.value);
  };
  if (!q) return;
  api("/api/search?q=" + encodeURIComponent(q)).then((r) => r.json()).then((res) => {
    document.getElementById("total").textContent = res.total + " 条结果 matching segments";
    const ol = document.getElementById("hits");
    for (const h of res.hits) {
      const li = document.createElement("li");
      li.className = "hit";
      li.dataset.session = h.session;
      li.dataset.start = h.start_ms;
      li.innerHTML = `<span class="muted">${esc(h.session)} · ${clock(h.start_ms)} · ${esc([h.platform, h.room, h.host].filter(Boolean).join("/"))}</span><br>${h.snippet}`;
      li.onclick = () => { location.hash = `#/session/${h.session}/${h.start_ms}`; };
      ol.appendChild(li);
    }
  }).catch((e) => { document.getElementById("total").textContent = "错误 Error: " + e.message; });
}

async function sessionPage(id, at) {
  show("t-session");
  const [s, rep, cm] = await Promise.all([
    api("/api/sessions/" + id).then((r) => r.json()),
    api("/api/sessions/" + id + "/report").then((r) => r.json()),
    api("/api/sessions/" + id + "/comments").then((r) => r.json()),
  ]);
  document.getElementById("s-title").textContent = `${s.original_name} · ${clock(s.duration_ms)}`;
  const badges = document.getElementById("badges");
  const box = document.getElementById("evidence-box");
  const badge = (text, cls, evidence) => {
    const b = document.createElement("button");
    b.className = "badge " + cls; b.textContent = text; b.type = "button";
    b.onclick = () => { box.hidden = !box.hidden; document.getElementById("evidence").textContent = JSON.stringify(evidence, null, 2); };
    badges.appendChild(b);
  };
  const dh = rep.digital_host;
  badge("数字人 digital host: " + dh, dh === "none" ? "ok" : "info", rep.signals);
  badge("披露 disclosure: " + rep.disclosure, rep.disclosure === "missing" || rep.disclosure === "partial" ? "warn" : "ok", rep.signals.filter((x) => x.kind === "spoken_disclosure"));
  for (const f of rep.findings) badge(f, "warn", f === "risky_claims" ? rep.claims : rep.signals);
  const flags = {};
  for (const f of (s.claims && s.claims.flags) || []) (flags[f.segment] = flags[f.segment] || []).push(f);

  // The player streams a playable rendition (browsers play no FLV or MPEG-TS) with range
  // requests; the token rides in the query string because <audio> cannot send headers.
  const player = document.getElementById("player");
  player.src = `/api/sessions/${id}/audio?access_token=${encodeURIComponent(token())}`;
  const ol = document.getElementById("segments");
  let sel = [];
  for (const seg of s.segments) {
    const li = document.createElement("li");
    li.className = "segment";
    li.dataset.start = seg.start_ms; li.dataset.end = seg.end_ms; li.dataset.index = seg.index;
    const fl = (flags[seg.index] || []).map((f) => `<span class="flag" title="${esc(f.article)}">${esc(f.category)}: ${esc(f.words.join("、"))}</span>`).join("");
    li.innerHTML = `<span class="muted">${clock(seg.start_ms)}</span> ${esc(seg.text)}${fl}`;
    li.onclick = (e) => {
      if (e.shiftKey || e.metaKey) {
        sel = sel.length >= 2 ? [seg] : sel.concat([seg]);
        for (const x of ol.children) x.classList.toggle("selected", sel.some((y) => String(y.index) === x.dataset.index));
        const lo = Math.min(...sel.map((x) => x.start_ms)), hi = Math.max(...sel.map((x) => x.end_ms));
        document.getElementById("range").textContent = `${clock(lo)} – ${clock(hi)}`;
        document.getElementById("export").disabled = false;
        return;
      }
      player.currentTime = seg.start_ms / 1000;
      player.play().catch(() => {});
    };
    // Whisper's mean token probability: below one half, listen before relying on the words.
    if (seg.confidence < 0.5) {
      li.classList.add("low");
      li.title = `低置信度 low confidence (${seg.confidence}): listen to the audio`;
    }
    ol.appendChild(li);
  }
  // Speech that yielded no text is shown where it was: its absence is sealed too.
  for (const g of s.gaps || []) {
    const li = document.createElement("li");
    li.className = "gap";
    li.dataset.start = g.start_ms; li.dataset.end = g.end_ms;
    li.innerHTML = `<span class="muted">${clock(g.start_ms)}</span> <i>此处有语音未能转写 · speech here was not transcribed (${esc(g.reason)})</i>`;
    li.onclick = () => { player.currentTime = g.start_ms / 1000; player.play().catch(() => {}); };
    const next = [...ol.children].find((x) => +x.dataset.start > g.start_ms);
    ol.insertBefore(li, next || null);
  }
  // Live comments beside the transcript, on the same timeline; the ones of the last few
  // seconds are highlighted as the audio plays.
  const cl = document.getElementById("comments");
  if (cm.comments && cm.comments.length) {
    document.getElementById("comments-box").hidden = false;
    document.getElementById("comments-count").textContent = `(${cm.comments.length})`;
    for (const c of cm.comments) {
      const li = document.createElement("li");
      li.className = "comment " + c.kind;
      li.dataset.t = c.t_ms;
      li.innerHTML = `<span class="muted">${clock(c.t_ms)} ${esc(c.user || "")}</span> ${c.kind === "chat" ? "" : `<span class="flag">${esc(c.kind)}</span> `}${esc(c.text)}`;
      li.onclick = () => { player.currentTime = c.t_ms / 1000; player.play().catch(() => {}); };
      cl.appendChild(li);
    }
  }
  for (const sig of rep.comment_signals || []) badge("弹幕 " + sig.kind, "warn", sig.evidence);
  player.ontimeupdate = () => {
    const ms = player.currentTime * 1000;
    for (const li of ol.children) li.classList.toggle("playing", ms >= +li.dataset.start && ms < +li.dataset.end);
    for (const li of cl.children) li.classList.toggle("playing", ms >= +li.dataset.t && ms < +li.dataset.t + 5000);
  };
  document.getElementById("export").onclick = async () => {
    const pick = sel.length ? sel : s.segments.slice(0, 1);
    const lo = Math.min(...pick.map((x) => x.start_ms)), hi = Math.max(...pick.map((x) => x.end_ms));
    const r = await api(`/api/sessions/${id}/evidence?from=${lo / 1000}&to=${hi / 1000}`);
    const a = document.createElement("a");
    a.href = URL.createObjectURL(await r.blob());
    a.download = `evidence-${id}-${lo}-${hi}.zip`;
    a.click();
  };
  if (at !== undefined) {
    const seek = () => { player.currentTime = at / 1000; };
    if (player.readyState >= 1) seek(); else player.addEventListener("loadedmetadata", seek, { once: true });
  }
}

const pinnedKeys = () => JSON.parse(localStorage.getItem("liveproof-trusted-keys") || "[]");

function verifyPage() {
  show("t-verify");
  const list = document.getElementById("pinned");
  const draw = () => {
    list.innerHTML = pinnedKeys().map((k) => `<li><code>${esc(k)}</code> <button type="button" data-k="${esc(k)}">✗</button></li>`).join("");
    for (const b of list.querySelectorAll("button")) b.onclick = () => {
      localStorage.setItem("liveproof-trusted-keys", JSON.stringify(pinnedKeys().filter((k) => k !== b.dataset.k)));
      draw();
    };
  };
  draw();
  document.getElementById("pin-add").onclick = () => {
    const k = document.getElementById("pin").value.trim().split(/\s/)[0].replace(/^ed25519:/, "").toLowerCase();
    if (!/^[0-9a-f]{64}$/.test(k)) { alert("密钥应为 64 位十六进制 A key is 64 hex digits"); return; }
    localStorage.setItem("liveproof-trusted-keys", JSON.stringify([...new Set([...pinnedKeys(), k])]));
    document.getElementById("pin").value = "";
    draw();
  };
  document.getElementById("bundle").onchange = async (e) => {
    const f = e.target.files[0];
    if (!f) return;
    const out = document.getElementById("verdict");
    out.textContent = "…";
    const q = pinnedKeys().map((k) => "key=" + k).join("&");
    const r = await fetch("/api/verify" + (q ? "?" + q : ""), { method: "POST", body: f });
    const v = await r.json();
    if (v.error) { out.textContent = v.error.message; return; }
    const heading = v.status === "verified" ? "✓ 已验证 VERIFIED"
      : v.status === "unknown_signer" ? "⚠ 未知签名者 SIGNED BY AN UNKNOWN KEY — 未验证 NOT VERIFIED"
      : "✗ 未通过 NOT VERIFIED";
    const sg = v.signer;
    const signer = sg ? `<p class="signer ${sg.trusted ? "pass" : "fail"}">签名者 Signed by: <b>${esc(sg.name || "未知密钥 unknown key")}</b><br>指纹 Fingerprint: <code class="fingerprint">${esc(sg.fingerprint)}</code><br><small>公钥 Key: <code>${esc(sg.public_key)}</code></small></p>` : "";
    out.innerHTML = `<h3 class="status-${esc(v.status)}">${heading}</h3>` + signer +
      (v.status === "unknown_signer" ? "<p>内容完整，但任何人都能用自己的密钥制作这样的证据包。请将指纹与存档公布的指纹核对，然后在上方信任该密钥。 Intact, but anyone can make such a bundle with a key of their own: compare the fingerprint with the one the archive publishes, then trust its key above.</p>" : "") +
      v.checks.map((c) => `<div class="check ${c.ok ? "pass" : "fail"}">${c.ok ? "✓" : "✗"} ${esc(c.name)}: ${esc(c.detail)}</div>`).join("") +
      ((v.witnessed_by || []).length ? `<p>见证 Witnessed by: ${v.witnessed_by.map(esc).join(", ")}</p>` : "") +
      ((v.custody || []).length ? "<h4>保管记录 Chain of custody</h4><ol class=\"custody\">" + v.custody.map((e) => `<li>${esc(e.at)} — ${esc(e.by)} — ${esc(e.event)}: ${esc(e.detail)}</li>`).join("") + "</ol>" : "") +
      (v.ok ? "<h4>证明 Proves</h4><ul>" + v.proven.map((p) => `<li>${esc(p)}</li>`).join("") + "</ul>" : "") +
      "<h4>不能证明 Does not prove</h4><ul>" + v.not_proven.map((p) => `<li>${esc(p)}</li>`).join("") + "</ul>";
  };
}

function route() {
  const h = location.hash.replace(/^#\/?/, "");
  const parts = h.split("/");
  if (parts[0] === "search") return searchPage(decodeURIComponent(parts.slice(1).join("/")));
  if (parts[0] === "session") return sessionPage(parts[1], parts[2] !== undefined ? +parts[2] : undefined).catch((e) => { app.textContent = "错误 Error: " + e.message; });
  if (parts[0] === "verify") return verifyPage();
  return searchPage("");
}
window.addEventListener("hashchange", route);
route();
