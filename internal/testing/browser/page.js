// Renders window.stagelineMarkdown as GitHub would (GFM through marked, ```mermaid blocks as
// diagrams), then measures what a reader would see and writes it as JSON into
// <pre id="stageline-result"> for browser.go to read from the dumped DOM.
(async () => {
  const res = { wrapped: [], axes: [], ansi: [], foreign: [], errors: [], height: 0 };
  try {
    const art = document.getElementById("stageline-body");
    art.innerHTML = marked.parse(window.stagelineMarkdown, { gfm: true });
    for (const code of art.querySelectorAll("pre > code.language-mermaid")) {
      const div = document.createElement("pre");
      div.className = "mermaid";
      div.textContent = code.textContent;
      code.parentElement.replaceWith(div);
    }
    mermaid.initialize({ startOnLoad: false, securityLevel: "strict", theme: window.stagelineDark ? "dark" : "default" });
    try {
      await mermaid.run({ querySelector: ".mermaid" });
    } catch (e) {
      res.errors.push("mermaid: " + e);
    }
    // A name or a figure in a table cell must stay on one line.
    for (const td of art.querySelectorAll("td")) {
      for (const c of td.querySelectorAll("code")) {
        if (!/\s/.test(c.textContent) && c.getClientRects().length > 1) res.wrapped.push(c.textContent);
      }
      if (td.getAttribute("align") === "right") {
        const r = document.createRange();
        r.selectNodeContents(td);
        const tops = new Set([...r.getClientRects()].map((x) => Math.round(x.top)));
        if (tops.size > 1) res.wrapped.push(td.textContent);
      }
    }
    for (const svg of art.querySelectorAll("svg")) {
      const labels = [...svg.querySelectorAll(".tick text")].map((t) => t.textContent).filter((t) => t !== "");
      if (labels.length) res.axes.push(labels);
    }
    const text = art.innerText;
    for (const bad of ["\u001b", "\uFFFD"]) if (text.includes(bad)) res.ansi.push(JSON.stringify(bad));
    const m = text.match(/\[[0-9;]*m/);
    if (m) res.ansi.push(m[0]);
    // Elements Markdown of ours produces; anything else came from a report.
    const allowed = new Set(["H2", "H3", "P", "UL", "LI", "STRONG", "EM", "CODE", "PRE", "TABLE", "THEAD", "TBODY",
      "TR", "TH", "TD", "A", "SPAN", "BR", "HR", "DIV", "H4"]);
    for (const el of art.querySelectorAll("*")) {
      if (el.closest("svg") || el.closest("pre.mermaid")) continue;
      if (!allowed.has(el.tagName)) res.foreign.push(el.tagName.toLowerCase());
      else if (el.tagName === "A" && !/^https:\/\/(github\.com|docs\.docker\.com|stageline\.example\.com)\//.test(el.getAttribute("href") || ""))
        res.foreign.push("a href=" + el.getAttribute("href"));
      else if (el.tagName === "SPAN" && el.childNodes.length > 0) res.foreign.push("span with content");
      for (const a of el.attributes) if (/^on/i.test(a.name)) res.foreign.push(el.tagName.toLowerCase() + " " + a.name);
    }
    res.height = Math.ceil(document.documentElement.scrollHeight);
  } catch (e) {
    res.errors.push(String(e && e.stack || e));
  }
  document.getElementById("stageline-result").textContent = JSON.stringify(res);
})();
