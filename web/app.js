// liveproof web page: sessions, search, claims desk, session player with readable evidence and
// a timeline, upload, token admin, verify. No framework, no CDN.
"use strict";
// Uncaught errors are kept where a test (or a curious user) can read them.
window.__errors = [];
window.addEventListener("error", (e) => window.__errors.push(String(e.message || e)));
window.addEventListener("unhandledrejection", (e) => window.__errors.push(String(e.reason && e.reason.message || e.reason)));

const app = document.getElementById("app");
const TOKEN_KEY = "liveproof-token";
const token = () => localStorage.getItem(TOKEN_KEY) || "";
const clock = (ms) => new Date(ms).toISOString().substring(11, 19);
const esc = (s) => String(s == null ? "" : s).replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]);
const $ = (id) => document.getElementById(id);
const CATEGORY = {
  absolute_terms: "绝对化用语 absolute terms", health_claims: "功效宣称 health claims",
  fake_authority: "虚假权威 fake authority", pressure: "催促下单 pressure", after_sales: "售后承诺 after-sales",
};
const CATEGORY_COLOR = { absolute_terms: "#dc2626", health_claims: "#9333ea", fake_authority: "#ea580c", pressure: "#ca8a04", after_sales: "#0891b2" };
const FINDING = {
  undisclosed_digital_host: "主播疑似数字人，但未见披露。 The host looks like a digital human, and no disclosure was found.",
  host_kind_contradicted: "平台元数据说是真人主播，但录像显示是数字人。 The metadata says a human hosts, but what was observed says otherwise.",
  contradictory_aigc_labels: "文件中的 AI 生成标识互相矛盾。 The file's AI-generated labels contradict each other.",
  malformed_aigc_label: "AI 生成标识格式不符合标准，仅供人工复核，不作为证据。 An AI-generated label is not in the standard's form: for review, not evidence.",
  invalid_c2pa_manifest: "C2PA 内容凭证无效。 The C2PA content credentials do not validate.",
  c2pa_mentions_ai: "C2PA 内容凭证提到 AI。 The C2PA content credentials mention AI.",
  risky_claims: "主播的话中有风险宣称。 The host said things the advertising rules flag.",
  shill_comments: "弹幕疑似刷屏托儿。 The live comments look like paid shills.",
};

// ---- the token, sign-in and deep links --------------------------------------------------------

// A link may carry a token (`#/session/abc?token=lp_…`, or the older `#token=lp_…`): keep it,
// take it out of the address, and stay on the page the link pointed to.
// Returns whether it found one.
function takeTokenFromLink() {
  const h = location.hash;
  const m = h.match(/[#?&]token=([^&]+)/);
  if (!m) return false;
  localStorage.setItem(TOKEN_KEY, decodeURIComponent(m[1]));
  let rest = h.replace(/[?&]?token=[^&]+/, "").replace(/\?&/, "?").replace(/\?$/, "");
  if (rest === "#" || rest === "") rest = "#/";
  history.replaceState(null, "", location.pathname + rest);
  return true;
}

function signIn() {
  const next = location.hash && !location.hash.startsWith("#/signin") ? location.hash : "#/";
  location.hash = "#/signin?next=" + encodeURIComponent(next);
}

async function api(path, opts = {}) {
  const headers = Object.assign({}, opts.headers || {});
  if (token()) headers["Authorization"] = "Bearer " + token();
  const r = await fetch(path, Object.assign({}, opts, { headers }));
  if (r.status === 401) { signIn(); throw new Error("请先登录 sign in first"); }
  if (!r.ok) {
    let msg = r.status + "";
    try { msg = (await r.json()).error.message; } catch (_) {}
    const e = new Error(msg); e.status = r.status; throw e;
  }
  return r;
}
const getJson = (path) => api(path).then((r) => r.json());

let me = null;
async function whoAmI() {
  me = null;
  if (token()) {
    try { me = await fetch("/api/me", { headers: { Authorization: "Bearer " + token() } }).then((r) => (r.ok ? r.json() : null)); } catch (_) {}
  }
  $("who").textContent = me ? `${me.role}${me.platform ? " · " + me.platform : ""} · 退出 sign out` : "登录 Sign in";
  $("nav-admin").hidden = !(me && me.role === "admin");
  return me;
}

function show(id) {
  // A page left behind stops playing (a detached <audio> would go on, and fire its handlers).
  const old = $("player");
  if (old) { old.ontimeupdate = null; old.pause(); old.removeAttribute("src"); old.load(); }
  app.replaceChildren(document.getElementById(id).content.cloneNode(true));
}

function signinPage(params) {
  show("t-signin");
  const next = params.get("next") || "#/";
  const status = $("signin-status");
  if (me) status.textContent = `已登录：${me.role}（令牌 ${me.token_id}）。 Signed in as ${me.role} (key ${me.token_id}).`;
  $("signin-form").onsubmit = async (e) => {
    e.preventDefault();
    const t = $("signin-token").value.trim();
    const r = await fetch("/api/me", { headers: { Authorization: "Bearer " + t } });
    if (!r.ok) {
      status.textContent = "这个密钥无效、已过期或已被撤销。 This key is not valid: it may have expired or been revoked.";
      status.className = "error";
      return;
    }
    localStorage.setItem(TOKEN_KEY, t);
    await whoAmI();
    location.hash = next;
  };
  $("signout").onclick = async () => { localStorage.removeItem(TOKEN_KEY); await whoAmI(); status.textContent = "已退出 Signed out"; };
}

// ---- filters kept in the address, so every list is a link -------------------------------------

function fillForm(form, params) {
  for (const el of form.elements) {
    if (!el.name) continue;
    if (el.type === "checkbox") el.checked = params.get(el.name) === el.value;
    else if (params.has(el.name)) el.value = params.get(el.name);
  }
}

function formQuery(form) {
  const q = new URLSearchParams();
  for (const el of form.elements) {
    if (!el.name || (el.type === "checkbox" && !el.checked)) continue;
    if (el.value !== "") q.set(el.name, el.value);
  }
  return q;
}

function pager(route, params, total, limit) {
  const offset = +(params.get("offset") || 0);
  $("page").textContent = total ? `${offset + 1}–${Math.min(offset + limit, total)} / ${total}` : "";
  const go = (o) => { const p = new URLSearchParams(params); p.set("offset", String(Math.max(0, o))); location.hash = `#/${route}?${p}`; };
  $("prev").disabled = offset === 0;
  $("next").disabled = offset + limit >= total;
  $("prev").onclick = () => go(offset - limit);
  $("next").onclick = () => go(offset + limit);
}

function failed(e) {
  const p = document.createElement("p");
  p.className = "error";
  p.textContent = "错误 Error: " + e.message;
  app.appendChild(p);
}

// ---- pages --------------------------------------------------------------------------------------

const PAGE = 50;

async function sessionsPage(params) {
  show("t-sessions");
  const form = $("filters");
  fillForm(form, params);
  form.onsubmit = (e) => { e.preventDefault(); location.hash = "#/sessions?" + formQuery(form); };
  const q = new URLSearchParams(params);
  q.set("limit", String(PAGE));
  const res = await getJson("/api/sessions?" + q);
  $("total").textContent = `${res.total} 场 sessions`;
  const tb = document.querySelector("#sessions tbody");
  for (const s of res.sessions) {
    const tr = document.createElement("tr");
    tr.className = "row";
    tr.dataset.session = s.session;
    const verdict = (v, bad) => `<span class="badge ${bad.includes(v) ? "warn" : "ok"}">${esc(v)}</span>`;
    tr.innerHTML = `<td>${esc((s.started_at || s.ingested_at || "").replace("T", " ").substring(0, 16))}</td><td>${esc(s.platform || "—")}</td><td>${esc(s.room || "—")}</td><td>${esc(s.host || "—")}</td><td>${clock(s.duration_ms)}</td><td>${esc(s.language)}</td><td>${verdict(s.digital_host, ["suspected"])}</td><td>${verdict(s.disclosure, ["missing", "partial"])}</td><td>${s.claim_count ? `<span class="badge warn">${s.claim_count}</span>` : "0"}</td>`;
    tr.onclick = () => { location.hash = `#/session/${s.session}`; };
    tb.appendChild(tr);
  }
  pager("sessions", params, res.total, PAGE);
}

async function searchPage(params) {
  show("t-search");
  const form = $("search-form");
  fillForm(form, params);
  form.onsubmit = (e) => { e.preventDefault(); location.hash = "#/search?" + formQuery(form); };
  if (![...params.keys()].some((k) => k !== "offset" && k !== "source")) return;
  const q = new URLSearchParams(params);
  q.set("limit", String(PAGE));
  if (!q.has("q")) q.set("q", "");
  const res = await getJson("/api/search?" + q);
  $("total").textContent = res.total + " 条结果 matching lines";
  const ol = $("hits");
  for (const h of res.hits) {
    const li = document.createElement("li");
    li.className = "hit";
    li.dataset.session = h.session;
    li.dataset.start = h.start_ms;
    const where = [h.platform, h.room, h.host].filter(Boolean).join(" / ");
    li.innerHTML = `<span class="muted">${esc(where || h.session)} · ${esc((h.started_at || "").substring(0, 10))} · ${clock(h.start_ms)}${h.user ? " · " + esc(h.user) : ""}</span><br>${h.snippet}`;
    li.onclick = () => { location.hash = `#/session/${h.session}/${h.start_ms}`; };
    ol.appendChild(li);
  }
  pager("search", params, Math.min(res.total, 9800), PAGE);
}

async function claimsPage(params) {
  show("t-claims");
  const form = $("filters");
  fillForm(form, params);
  form.onsubmit = (e) => { e.preventDefault(); location.hash = "#/claims?" + formQuery(form); };
  const q = new URLSearchParams(params);
  q.set("limit", String(PAGE));
  const res = await getJson("/api/claims?" + q);
  $("total").textContent = `${res.total} 条宣称 flagged claims`;
  const tb = document.querySelector("#claims tbody");
  for (const c of res.claims) {
    const tr = document.createElement("tr");
    tr.className = "claim review-" + c.review;
    tr.dataset.session = c.session;
    tr.dataset.segment = c.segment;
    tr.dataset.category = c.category;
    const mark = (text) => c.words.reduce((t, w) => t.split(esc(w)).join(`<b>${esc(w)}</b>`), esc(text));
    tr.innerHTML = `<td><a href="#/session/${esc(c.session)}/${c.start_ms}">${esc(c.platform || "")} ${esc(c.session.substring(0, 8))} · ${clock(c.start_ms)}</a></td>` +
      `<td><span class="flag" style="border-left:4px solid ${CATEGORY_COLOR[c.category] || "#999"}">${esc(CATEGORY[c.category] || c.category)}</span></td>` +
      `<td>${mark(c.text)}${c.exempt_context ? `<br><span class="muted">${esc(c.exempt_context)}</span>` : ""}</td>` +
      `<td class="muted">${esc(c.article)}</td>` +
      `<td class="review"></td>`;
    const cell = tr.querySelector(".review");
    const draw = () => {
      const d = c.decision;
      cell.innerHTML = `<span class="status">${esc({ open: "待审 open", confirmed: "✓ 已确认 confirmed", dismissed: "✗ 已驳回 dismissed" }[c.review])}</span>` +
        (d ? `<br><span class="muted">${esc(d.by)} · ${esc(d.at.substring(0, 16).replace("T", " "))}${d.note ? " · " + esc(d.note) : ""}</span>` : "") +
        `<br><input class="note" placeholder="备注 note" size="12"> <button class="confirm" type="button">确认 Confirm</button> <button class="dismiss" type="button">驳回 Dismiss</button>`;
      const decide = async (decision) => {
        const note = cell.querySelector(".note").value;
        try {
          const r = await api("/api/claims/review", { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ session: c.session, segment: c.segment, category: c.category, decision, note }) }).then((x) => x.json());
          c.review = r.decision; c.decision = r; tr.className = "claim review-" + c.review; draw();
        } catch (e) { cell.querySelector(".status").textContent = "错误 Error: " + e.message; }
      };
      cell.querySelector(".confirm").onclick = () => decide("confirmed");
      cell.querySelector(".dismiss").onclick = () => decide("dismissed");
    };
    draw();
    tb.appendChild(tr);
  }
  pager("claims", params, res.total, PAGE);
}

// Times in evidence sentences (00:12:04 or 00:12:04.250) become links that seek the player.
function linkTimes(text) {
  return esc(text).replace(/\b(\d{2}):(\d{2}):(\d{2})(?:\.(\d{3}))?\b/g, (all, h, m, s, ms) =>
    `<a href="#" class="seek" data-ms="${((+h * 60 + +m) * 60 + +s) * 1000 + +(ms || 0)}">${all}</a>`);
}

function timeline(el, s, rep, comments, player) {
  const W = 1000, dur = Math.max(s.duration_ms, 1), x = (ms) => (ms / dur) * W;
  const rows = [];
  const bar = (y, a, b, color, title) => `<rect x="${x(a).toFixed(1)}" y="${y}" width="${Math.max(x(b) - x(a), 1.5).toFixed(1)}" height="10" fill="${color}"><title>${esc(title)}</title></rect>`;
  let y = 2;
  rows.push({ y, label: "语音 speech", color: "#9ca3af" });
  let svg = s.segments.map((g) => bar(y, g.start_ms, g.end_ms, g.confidence < 0.5 ? "#fbbf24" : "#9ca3af", clock(g.start_ms) + " " + g.text)).join("");
  svg += (s.gaps || []).map((g) => bar(y, g.start_ms, g.end_ms, "#b91c1c", clock(g.start_ms) + " 未转写 not transcribed")).join("");
  y += 14;
  const disc = rep.signals.find((x) => x.kind === "spoken_disclosure");
  rows.push({ y, label: "披露 disclosure", color: "#16a34a" });
  if (disc) svg += disc.evidence.occurrences.map((o) => bar(y, o.start_ms, o.end_ms, "#16a34a", clock(o.start_ms) + " " + o.text)).join("");
  y += 14;
  rows.push({ y, label: "宣称 claims", color: "#dc2626" });
  for (const f of (rep.claims && rep.claims.flags) || []) svg += bar(y, f.start_ms, f.end_ms, CATEGORY_COLOR[f.category] || "#dc2626", clock(f.start_ms) + " " + (CATEGORY[f.category] || f.category) + ": " + f.words.join("、"));
  y += 14;
  const loops = rep.signals.find((x) => x.kind === "looped_script");
  rows.push({ y, label: "重复 repeats", color: "#7c3aed" });
  if (loops) for (const p of loops.evidence.passages) svg += p.occurrences.map((o) => bar(y, o[0], o[1], "#7c3aed", clock(o[0]) + " " + p.text)).join("");
  y += 14;
  rows.push({ y, label: "弹幕 comments", color: "#2563eb" });
  const bins = new Array(100).fill(0);
  for (const c of comments) bins[Math.min(99, Math.floor((c.t_ms / dur) * 100))]++;
  const peak = Math.max(1, ...bins);
  svg += bins.map((n, i) => (n ? `<rect x="${i * 10}" y="${y + 10 - (10 * n) / peak}" width="9" height="${(10 * n) / peak}" fill="#2563eb"><title>${n}</title></rect>` : "")).join("");
  y += 14;
  el.innerHTML = `<svg id="strip" viewBox="0 0 ${W} ${y}" preserveAspectRatio="none" width="100%" height="${y * 2}">${svg}<line id="playhead" x1="0" x2="0" y1="0" y2="${y}" stroke="#111" stroke-width="2"/></svg>`;
  $("legend").innerHTML = rows.map((r) => `<span><i style="display:inline-block;width:.8rem;height:.6rem;margin-right:.2rem;background:${r.color}"></i>${esc(r.label)}</span>`).join(" ") + " · 点击时间轴跳转 click the strip to seek";
  const strip = $("strip");
  strip.onclick = (e) => {
    const r = strip.getBoundingClientRect();
    player.currentTime = (((e.clientX - r.left) / r.width) * dur) / 1000;
    player.play().catch(() => {});
  };
  return (ms) => { const p = $("playhead"); if (p) { p.setAttribute("x1", x(ms)); p.setAttribute("x2", x(ms)); } };
}

// The badges of a report; `seek(ms)` follows a time in their sentences.
function reportBadges(rep, segments, seek) {
  const badges = $("badges");
  const box = $("evidence-box");
  const open = (title, sentences) => {
    box.hidden = false;
    $("evidence-title").textContent = title;
    $("evidence").innerHTML = sentences.length ? "<ul>" + sentences.map((t) => `<li>${linkTimes(t)}</li>`).join("") + "</ul>" : "<p>没有信号。 No signals.</p>";
    for (const a of $("evidence").querySelectorAll("a.seek")) a.onclick = (e) => { e.preventDefault(); seek(+a.dataset.ms); };
  };
  const badge = (text, cls, title, sentences) => {
    const b = document.createElement("button");
    b.className = "badge " + cls; b.textContent = text; b.type = "button";
    b.onclick = () => open(title, sentences());
    badges.appendChild(b);
  };
  const dh = rep.digital_host;
  badge("数字人 digital host: " + dh, dh === "suspected" ? "warn" : dh === "declared" ? "info" : "ok", "数字人 Digital host: " + dh,
    () => rep.signals.map((x) => x.sentence));
  const disc = rep.signals.filter((x) => x.kind === "spoken_disclosure");
  badge("披露 disclosure: " + rep.disclosure, rep.disclosure === "missing" || rep.disclosure === "partial" ? "warn" : "ok", "披露 Disclosure: " + rep.disclosure,
    () => disc.length ? disc.map((x) => x.sentence) : [`没有听到披露语句（规则要求每 ${rep.interval_min} 分钟一次）。 No spoken disclosure was heard (the rules ask for one every ${rep.interval_min} minutes).`]);
  for (const f of rep.findings) {
    badge(f, "warn", FINDING[f] || f, () => {
      if (f === "risky_claims") return rep.claims.flags.map((c) => `${clock(c.start_ms)} ${CATEGORY[c.category] || c.category}: “${(segments.find((g) => g.index === c.segment) || {}).text || ""}” — ${c.words.join("、")} (${c.article})`);
      if (f === "shill_comments") return [FINDING[f]].concat(rep.comment_signals.map((x) => x.sentence));
      return [FINDING[f] || f].concat(rep.signals.map((x) => x.sentence));
    });
  }
  for (const sig of rep.comment_signals || []) badge("弹幕 " + sig.kind, "warn", "弹幕 Live comments", () => [sig.sentence]);
}

async function broadcastsPage(params) {
  show("t-broadcasts");
  const q = new URLSearchParams(params);
  q.set("limit", String(PAGE));
  const res = await getJson("/api/broadcasts?" + q);
  $("total").textContent = `${res.total} 场直播 broadcasts`;
  const tb = document.querySelector("#broadcasts tbody");
  for (const b of res.broadcasts) {
    const tr = document.createElement("tr");
    tr.className = "row";
    tr.dataset.broadcast = b.broadcast;
    tr.innerHTML = `<td>${esc(b.started_at.replace("T", " ").substring(0, 16))}</td><td>${esc(b.platform || "—")}</td><td>${esc(b.room || "—")}</td><td>${esc(b.host || "—")}</td><td>${clock(b.duration_ms)}</td><td>${b.sessions.length}</td>`;
    tr.onclick = () => { location.hash = `#/broadcast/${b.broadcast}`; };
    tb.appendChild(tr);
  }
  pager("broadcasts", params, res.total, PAGE);
}

async function broadcastPage(id) {
  const { broadcast: b, report: rep } = await getJson("/api/broadcasts/" + id);
  show("t-broadcast");
  const parts = await Promise.all(b.sessions.map((s) => getJson("/api/sessions/" + s)));
  // One timeline: every segment's lines at its offset.
  const segments = [], gaps = [];
  parts.forEach((p, i) => {
    const o = b.offsets_ms[i];
    for (const g of p.segments) segments.push(Object.assign({}, g, { index: segments.length, start_ms: g.start_ms + o, end_ms: g.end_ms + o }));
    for (const g of p.gaps || []) gaps.push(Object.assign({}, g, { start_ms: g.start_ms + o, end_ms: g.end_ms + o }));
  });
  $("s-title").textContent = [b.platform, b.room, b.host].filter(Boolean).join(" / ") || b.broadcast;
  $("s-meta").textContent = `开播 started ${b.started_at} · ${clock(b.duration_ms)} · ${b.sessions.length} 段 segments`;
  // A time on the broadcast's timeline opens the segment holding it, at that moment.
  const open = (ms) => {
    let i = b.offsets_ms.length - 1;
    while (i > 0 && b.offsets_ms[i] > ms) i--;
    location.hash = `#/session/${b.sessions[i]}/${Math.max(0, Math.round(ms - b.offsets_ms[i]))}`;
  };
  reportBadges(rep, segments, open);
  const jump = { set currentTime(v) { open(v * 1000); }, play() { return Promise.resolve(); } };
  timeline($("timeline"), { duration_ms: b.duration_ms, segments, gaps }, rep, [], jump);
  const ol = $("parts");
  parts.forEach((p, i) => {
    const li = document.createElement("li");
    li.innerHTML = `<a href="#/session/${esc(p.session)}">${clock(b.offsets_ms[i])} – ${clock(b.offsets_ms[i] + p.duration_ms)} · ${esc(p.original_name)}</a>`;
    ol.appendChild(li);
  });
}

async function sessionPage(id, at) {
  let s;
  try {
    s = await getJson("/api/sessions/" + id);
  } catch (e) {
    if (e.status === 410) return deletedPage(id, e.message);
    throw e;
  }
  show("t-session");
  const [rep, cm] = await Promise.all([
    getJson("/api/sessions/" + id + "/report"),
    getJson("/api/sessions/" + id + "/comments"),
  ]);
  const md = s.metadata || {};
  $("s-title").textContent = [md.platform, md.room, md.host].filter(Boolean).join(" / ") || s.original_name;
  $("s-meta").textContent = `${s.original_name} · ${clock(s.duration_ms)} · ${s.language} · ${md.started_at ? "开播 started " + md.started_at : "存档 archived " + s.ingested_at} · ${s.session}`;
  if (s.legal_hold) {
    $("s-meta").insertAdjacentHTML("afterend", `<p class="hold">⚖ 法律保全中 On legal hold since ${esc(s.legal_hold.at.substring(0, 16).replace("T", " "))} (${esc(s.legal_hold.by)}): ${esc(s.legal_hold.reason)}</p>`);
  }
  const player = $("player");
  const seek = (ms) => { player.currentTime = ms / 1000; player.play().catch(() => {}); };

  // Badges open their evidence as sentences; every time in them seeks the player.
  reportBadges(rep, s.segments, seek);

  const flags = {};
  for (const f of (s.claims && s.claims.flags) || []) (flags[f.segment] = flags[f.segment] || []).push(f);
  // The player streams a playable rendition (browsers play no FLV or MPEG-TS) with range
  // requests; the token rides in the query string because <audio> cannot send headers.
  player.src = `/api/sessions/${id}/audio?access_token=${encodeURIComponent(token())}`;
  const ol = $("segments");
  let sel = [];
  const range = () => {
    const pick = sel.length ? sel : [s.segments.find((g) => g.end_ms > player.currentTime * 1000) || s.segments[0]].filter(Boolean);
    if (!pick.length) return null;
    return [Math.min(...pick.map((x) => x.start_ms)), Math.max(...pick.map((x) => x.end_ms)), sel.length > 0];
  };
  const showRange = () => {
    const r = range();
    $("range").textContent = !r ? "没有可导出的句子 nothing to export" : `范围 Range ${clock(r[0])}–${clock(r[1])}` + (r[2] ? "" : "（当前句；按住 Shift 点击两句可改） (the current line; shift-click two lines to change it)");
    $("export").disabled = !r;
  };
  for (const seg of s.segments) {
    const li = document.createElement("li");
    li.className = "segment";
    li.dataset.start = seg.start_ms; li.dataset.end = seg.end_ms; li.dataset.index = seg.index;
    const fl = (flags[seg.index] || []).map((f) => `<span class="flag" style="border-left:4px solid ${CATEGORY_COLOR[f.flag ? f.flag.category : f.category] || "#999"}" title="${esc(f.flag ? f.flag.article : f.article)}">${esc(CATEGORY[f.flag ? f.flag.category : f.category] || "")}: ${esc((f.flag ? f.flag.words : f.words || []).join("、"))}</span>`).join("");
    li.innerHTML = `<span class="muted">${clock(seg.start_ms)}</span> ${esc(seg.text)}${fl}`;
    li.onclick = (e) => {
      if (e.shiftKey || e.metaKey) {
        sel = sel.length >= 2 ? [seg] : sel.concat([seg]);
        for (const x of ol.children) x.classList.toggle("selected", sel.some((y) => String(y.index) === x.dataset.index));
        showRange();
        return;
      }
      seek(seg.start_ms);
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
    li.onclick = () => seek(g.start_ms);
    const next = [...ol.children].find((x) => +x.dataset.start > g.start_ms);
    ol.insertBefore(li, next || null);
  }
  // Live comments beside the transcript, on the same timeline.
  const cl = $("comments");
  const comments = cm.comments || [];
  if (comments.length) {
    $("comments-box").hidden = false;
    $("comments-count").textContent = `(${comments.length})`;
    for (const c of comments) {
      const li = document.createElement("li");
      li.className = "comment " + c.kind;
      li.dataset.t = c.t_ms;
      li.innerHTML = `<span class="muted">${clock(c.t_ms)} ${esc(c.user || "")}</span> ${c.kind === "chat" ? "" : `<span class="flag">${esc(c.kind)}</span> `}${esc(c.text)}`;
      li.onclick = () => seek(c.t_ms);
      cl.appendChild(li);
    }
  }
  const playhead = timeline($("timeline"), s, rep, comments, player);
  player.ontimeupdate = () => {
    const ms = player.currentTime * 1000;
    playhead(ms);
    for (const li of ol.children) li.classList.toggle("playing", ms >= +li.dataset.start && ms < +li.dataset.end);
    for (const li of cl.children) li.classList.toggle("playing", ms >= +li.dataset.t && ms < +li.dataset.t + 5000);
    if (!sel.length) showRange();
  };
  showRange();
  $("export").onclick = async () => {
    const r = range();
    if (!r) return;
    $("range").textContent = "正在导出… exporting…";
    try {
      const resp = await api(`/api/sessions/${id}/evidence?from=${r[0] / 1000}&to=${r[1] / 1000}`);
      const a = document.createElement("a");
      a.href = URL.createObjectURL(await resp.blob());
      a.download = `evidence-${id}-${r[0]}-${r[1]}.zip`;
      document.body.appendChild(a); a.click(); a.remove();
      showRange();
    } catch (e) { $("range").textContent = "错误 Error: " + e.message; }
  };
  if (me && me.role === "admin") adminActions(id);
  if (at !== undefined) {
    const go = () => { player.currentTime = at / 1000; };
    if (player.readyState >= 1) go(); else player.addEventListener("loadedmetadata", go, { once: true });
  }
}

function adminActions(id) {
  $("admin-actions").hidden = false;
  const status = $("admin-status");
  const act = async (method, path, ask) => {
    const reason = prompt(ask);
    if (reason === null) return null;
    try {
      return await api(`${path}?reason=${encodeURIComponent(reason)}`, { method }).then((r) => r.json());
    } catch (e) { status.textContent = "错误 Error: " + e.message; return null; }
  };
  $("hold").onclick = async () => { const h = await act("POST", `/api/sessions/${id}/hold`, "保全原因 Why hold it (a case, an order)?"); if (h) status.textContent = `已保全 On legal hold: ${h.reason}`; };
  $("release").onclick = async () => { const h = await act("POST", `/api/sessions/${id}/release`, "解除原因 Why release it?"); if (h) status.textContent = `已解除 Hold released: ${h.reason}`; };
  $("delete").onclick = async () => {
    const d = await act("DELETE", `/api/sessions/${id}`, "删除原因（将记入日志）Why delete it? (logged, and kept in its tombstone)");
    if (d) deletedPage(id, `已删除 Deleted (log entry ${d.log_index}): ${d.tombstone.reason}`);
  };
}

async function deletedPage(id, message) {
  show("t-deleted");
  $("deleted-message").textContent = message;
  let tomb;
  try { tomb = await api(`/api/sessions/${id}/tombstone`).then((r) => r.text()); } catch (e) { $("verdict").textContent = e.message; return; }
  $("tomb-download").href = URL.createObjectURL(new Blob([tomb], { type: "application/json" }));
  $("tomb-download").download = `${id}.tombstone.json`;
  $("tomb-verify").onclick = async () => showVerdict(await postVerify(new Blob([tomb])));
}

function uploadPage() {
  show("t-upload");
  const status = $("up-status"), bar = $("up-progress");
  const send = (file) => {
    if (!file) return;
    bar.hidden = false; bar.value = 0;
    status.textContent = `正在上传 Uploading ${file.name}…`;
    const xhr = new XMLHttpRequest();
    xhr.open("POST", `/api/uploads?name=${encodeURIComponent(file.name)}&lang=${$("up-lang").value}`);
    if (token()) xhr.setRequestHeader("Authorization", "Bearer " + token());
    xhr.upload.onprogress = (e) => { if (e.lengthComputable) bar.value = (100 * e.loaded) / e.total; };
    xhr.onload = () => {
      let body = {};
      try { body = JSON.parse(xhr.responseText); } catch (_) {}
      if (xhr.status === 401) return signIn();
      if (xhr.status !== 202) { status.textContent = "上传失败 Upload failed: " + (body.error ? body.error.message : xhr.status); status.className = "error"; return; }
      bar.value = 100;
      watchJob(body.job);
    };
    xhr.onerror = () => { status.textContent = "网络错误 The connection failed; try again."; };
    xhr.send(file);
  };
  const watchJob = async (job) => {
    const j = await getJson(`/api/jobs/${job}`);
    const pct = j.total_ms ? ` ${Math.round((100 * j.progress_ms) / j.total_ms)}%` : "";
    const words = { queued: "排队中 queued", running: "转写中 transcribing" + pct, done: "完成 done", failed: "失败 failed" };
    status.textContent = `任务 Job ${j.id}: ${words[j.status] || j.status}`;
    if (j.status === "failed") { status.textContent += " — " + j.error; status.className = "error"; return; }
    if (j.status === "done") { status.innerHTML = `完成 Done: <a id="up-session" href="#/session/${esc(j.session)}">打开场次 open the session</a>`; location.hash = `#/session/${j.session}`; return; }
    setTimeout(() => watchJob(job), 1000);
  };
  $("file").onchange = (e) => send(e.target.files[0]);
  const drop = $("drop");
  drop.ondragover = (e) => { e.preventDefault(); drop.classList.add("over"); };
  drop.ondragleave = () => drop.classList.remove("over");
  drop.ondrop = (e) => { e.preventDefault(); drop.classList.remove("over"); send(e.dataTransfer.files[0]); };
}

async function adminPage() {
  show("t-admin");
  if (!me || me.role !== "admin") { app.insertAdjacentHTML("afterbegin", `<p class="error">只有管理员可以管理令牌。 Only an admin key may manage keys.</p>`); return; }
  const draw = async () => {
    const res = await getJson("/api/tokens");
    const tb = document.querySelector("#tokens tbody");
    tb.replaceChildren();
    for (const t of res.tokens) {
      const tr = document.createElement("tr");
      tr.dataset.id = t.id;
      tr.className = "token " + t.status;
      tr.innerHTML = `<td>${t.id}</td><td>${esc(t.role)}</td><td>${esc(t.platform || "—")}</td><td>${esc(t.created_at.substring(0, 16).replace("T", " "))}</td><td>${esc(t.expires_at ? t.expires_at.substring(0, 16).replace("T", " ") : "不过期 never")}</td><td class="status">${esc(t.status)}</td><td>${t.status === "active" && t.id !== me.token_id ? `<button class="revoke" type="button">撤销 Revoke</button>` : ""}</td>`;
      const b = tr.querySelector(".revoke");
      if (b) b.onclick = async () => {
        if (!confirm(`撤销令牌 ${t.id}？ Revoke key ${t.id}? Whoever holds it loses access at once.`)) return;
        await api(`/api/tokens/${t.id}/revoke`, { method: "POST" });
        draw();
      };
      tb.appendChild(tr);
    }
  };
  await draw();
  const form = $("new-token");
  form.onsubmit = async (e) => {
    e.preventDefault();
    const body = { role: form.role.value };
    if (form.platform.value) body.platform = form.platform.value;
    if (form.expires.value) body.expires = form.expires.value;
    const box = $("new-secret");
    try {
      const c = await api("/api/tokens", { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) }).then((r) => r.json());
      const link = `${location.origin}/#/?token=${encodeURIComponent(c.token)}`;
      box.hidden = false;
      box.innerHTML = `<p>新密钥只显示这一次。 The new key is shown this once:</p><p><code id="secret">${esc(c.token)}</code></p><p>登录链接 Sign-in link: <code>${esc(link)}</code></p>`;
      draw();
    } catch (err) { box.hidden = false; box.textContent = "错误 Error: " + err.message; }
  };
}

// ---- verify ------------------------------------------------------------------------------------

const pinnedKeys = () => JSON.parse(localStorage.getItem("liveproof-trusted-keys") || "[]");

async function postVerify(body) {
  const q = pinnedKeys().map((k) => "key=" + k).join("&");
  const r = await fetch("/api/verify" + (q ? "?" + q : ""), { method: "POST", body });
  return r.json();
}

function showVerdict(v) {
  const out = $("verdict");
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
}

function verifyPage() {
  show("t-verify");
  const list = $("pinned");
  const draw = () => {
    list.innerHTML = pinnedKeys().map((k) => `<li><code>${esc(k)}</code> <button type="button" data-k="${esc(k)}">✗</button></li>`).join("");
    for (const b of list.querySelectorAll("button")) b.onclick = () => {
      localStorage.setItem("liveproof-trusted-keys", JSON.stringify(pinnedKeys().filter((k) => k !== b.dataset.k)));
      draw();
    };
  };
  draw();
  $("pin-add").onclick = () => {
    const k = $("pin").value.trim().split(/\s/)[0].replace(/^ed25519:/, "").toLowerCase();
    if (!/^[0-9a-f]{64}$/.test(k)) { alert("密钥应为 64 位十六进制 A key is 64 hex digits"); return; }
    localStorage.setItem("liveproof-trusted-keys", JSON.stringify([...new Set([...pinnedKeys(), k])]));
    $("pin").value = "";
    draw();
  };
  $("bundle").onchange = async (e) => {
    const f = e.target.files[0];
    if (!f) return;
    $("verdict").textContent = "…";
    showVerdict(await postVerify(f));
  };
}

// ---- routing -----------------------------------------------------------------------------------

// `#/page/arg/arg?key=value…`; pages that read the archive ask for a token first, and come back.
async function route() {
  if (takeTokenFromLink()) await whoAmI();
  const h = location.hash.replace(/^#\/?/, "");
  const [path, query] = h.split("?");
  const parts = path.split("/");
  const params = new URLSearchParams(query || "");
  const page = parts[0] || "sessions";
  if (page === "verify") return verifyPage();
  if (page === "signin") return signinPage(params);
  if (!token()) return signIn();
  try {
    if (page === "sessions") return await sessionsPage(params);
    if (page === "search") {
      // The older `#/search/<query>` form still works.
      if (parts[1]) params.set("q", decodeURIComponent(parts.slice(1).join("/")));
      return await searchPage(params);
    }
    if (page === "claims") return await claimsPage(params);
    if (page === "broadcasts") return await broadcastsPage(params);
    if (page === "broadcast") return await broadcastPage(parts[1]);
    if (page === "session") return await sessionPage(parts[1], parts[2] !== undefined ? +parts[2] : undefined);
    if (page === "upload") return uploadPage();
    if (page === "admin") return await adminPage();
    return await sessionsPage(params);
  } catch (e) {
    if (!/sign in first/.test(e.message)) failed(e);
  }
}
window.addEventListener("hashchange", route);
whoAmI().then(route);
