// Nuage console uploads: files and folders by drag and drop or file picker, one progress bar per file.
// The bytes go straight to the S3 endpoint (another origin: the console has a port of its own; the S3
// endpoint answers the CORS of these presigned PUTs for the console's origin only) with presigned URLs
// from /api/upload/*: one PUT for a small file; for a large one a multipart upload whose parts are PUT in
// turn and, after a network error, resumed from the parts S3 already has (ListParts). The PUTs carry no
// cookie: a presigned URL is its own authority.
(function () {
  "use strict";
  var zone = document.getElementById("dropzone");
  if (!zone) { return; }
  var list = document.getElementById("uploads");
  var csrf = document.querySelector('meta[name="csrf-token"]').getAttribute("content");
  var bucket = zone.getAttribute("data-bucket");
  var prefix = zone.getAttribute("data-prefix") || "";
  var MAX_TRIES = 5;
  var running = 0;

  function api(path, body) {
    return fetch("/api/upload/" + path, {
      method: "POST", credentials: "same-origin",
      headers: {"content-type": "application/json", "x-csrf-token": csrf},
      body: JSON.stringify(body)
    }).then(function (resp) {
      return resp.json().then(function (data) {
        if (!resp.ok) { throw new Error(data.message || ("HTTP " + resp.status)); }
        return data;
      });
    });
  }

  function sleep(ms) { return new Promise(function (ok) { setTimeout(ok, ms); }); }

  // PUT a blob to a presigned URL; onProgress(bytesSent). Resolves with the ETag.
  function put(url, blob, onProgress) {
    return new Promise(function (resolve, reject) {
      var xhr = new XMLHttpRequest();
      xhr.open("PUT", url);
      xhr.upload.addEventListener("progress", function (ev) { onProgress(ev.loaded); });
      xhr.addEventListener("load", function () {
        if (xhr.status >= 200 && xhr.status < 300) { onProgress(blob.size); resolve(xhr.getResponseHeader("ETag")); }
        else {
          var err = new Error("S3 answered " + xhr.status);
          err.retry = xhr.status >= 500;
          reject(err);
        }
      });
      xhr.addEventListener("error", function () { var e = new Error("network error"); e.retry = true; reject(e); });
      xhr.addEventListener("abort", function () { var e = new Error("aborted"); e.retry = true; reject(e); });
      xhr.send(blob);
    });
  }

  function row(key, size) {
    var li = document.createElement("li");
    li.setAttribute("data-key", key);
    li.setAttribute("data-state", "queued");
    var name = document.createElement("span");
    name.textContent = key.slice(prefix.length);
    var bar = document.createElement("progress");
    bar.max = 100; bar.value = 0;
    bar.setAttribute("aria-label", (window.nuageT || function (s) { return s; })("Upload of {name}", {name: key.slice(prefix.length)}));
    var state = document.createElement("span");
    state.className = "state";
    state.textContent = "0%";
    li.appendChild(name); li.appendChild(bar); li.appendChild(state);
    list.appendChild(li);
    return {
      progress: function (sent) {
        var pct = size ? Math.min(100, Math.floor(sent * 100 / size)) : 100;
        bar.value = pct; state.textContent = pct + "%";
        li.setAttribute("data-state", "sending");
      },
      note: function (text) { state.textContent = text; },
      done: function () { bar.value = 100; state.textContent = "100% " + (window.nuageT || function (s) { return s; })("done"); li.setAttribute("data-state", "done"); },
      fail: function (msg) { state.textContent = (window.nuageT || function (s) { return s; })("failed: {message}", {message: msg}); state.classList.add("failed"); li.setAttribute("data-state", "failed"); }
    };
  }

  function uploadSingle(file, plan, ui) {
    var attempt = 0;
    function go() {
      return put(plan.url, file, ui.progress).catch(function (err) {
        attempt += 1;
        if (!err.retry || attempt >= MAX_TRIES) { throw err; }
        ui.note((window.nuageT || function (s) { return s; })("retrying…"));
        return sleep(500 * attempt).then(go);
      });
    }
    return go();
  }

  function uploadMultipart(file, key, plan, ui) {
    var size = plan.part_size;
    var sent = {};            // part number -> bytes sent
    var etags = {};           // part number -> ETag
    function total() { var t = 0; for (var n in sent) { t += sent[n]; } return t; }
    function sendPart(part) {
      var start = (part.number - 1) * size;
      var blob = file.slice(start, Math.min(file.size, start + size));
      return put(part.url, blob, function (loaded) { sent[part.number] = loaded; ui.progress(total()); })
        .then(function (etag) { etags[part.number] = etag; });
    }
    function sendMissing(attempt) {
      var chain = Promise.resolve();
      plan.parts.forEach(function (part) {
        chain = chain.then(function () { if (!etags[part.number]) { return sendPart(part); } });
      });
      return chain.catch(function (err) {
        if (!err.retry || attempt >= MAX_TRIES) { throw err; }
        ui.note((window.nuageT || function (s) { return s; })("resuming…"));
        return sleep(500 * attempt).then(function () {
          // resume: ask S3 which parts it has, and send only the others
          return api("parts", {bucket: bucket, key: key, upload_id: plan.upload_id});
        }).then(function (have) {
          have.parts.forEach(function (p) {
            var expected = Math.min(size, file.size - (p.number - 1) * size);
            if (p.size === expected) { etags[p.number] = p.etag; sent[p.number] = p.size; }
          });
          plan.parts.forEach(function (part) { if (!etags[part.number]) { sent[part.number] = 0; } });
          ui.progress(total());
          return sendMissing(attempt + 1);
        });
      });
    }
    return sendMissing(1).then(function () {
      var parts = plan.parts.map(function (p) { return {number: p.number, etag: etags[p.number]}; });
      return api("complete", {bucket: bucket, key: key, upload_id: plan.upload_id, parts: parts});
    });
  }

  function refreshListing() {
    if (window.htmx) {
      htmx.ajax("GET", window.location.href, {target: "#listing", select: "#listing", swap: "outerHTML"});
    }
  }

  function upload(file, relative) {
    var key = prefix + (relative || file.name);
    var ui = row(key, file.size);
    running += 1;
    return api("start", {bucket: bucket, key: key, size: file.size}).then(function (plan) {
      return plan.mode === "single" ? uploadSingle(file, plan, ui) : uploadMultipart(file, key, plan, ui);
    }).then(ui.done, function (err) { ui.fail(err.message); }).then(function () {
      running -= 1;
      if (running === 0) { refreshListing(); }
    });
  }

  function uploadAll(items) {
    var chain = Promise.resolve();
    items.forEach(function (it) { chain = chain.then(function () { return upload(it.file, it.path); }); });
    return chain;
  }

  // folders dropped: walk their entries (webkitGetAsEntry), keeping relative paths as key suffixes
  function walk(entry, path, out) {
    return new Promise(function (resolve) {
      if (entry.isFile) {
        entry.file(function (f) { out.push({file: f, path: path + f.name}); resolve(); }, function () { resolve(); });
      } else if (entry.isDirectory) {
        var reader = entry.createReader();
        var readMore = function () {
          reader.readEntries(function (entries) {
            if (!entries.length) { resolve(); return; }
            Promise.all(entries.map(function (e) { return walk(e, path + entry.name + "/", out); })).then(readMore);
          }, function () { resolve(); });
        };
        readMore();
      } else { resolve(); }
    });
  }

  zone.addEventListener("dragover", function (ev) { ev.preventDefault(); zone.classList.add("over"); });
  zone.addEventListener("dragleave", function () { zone.classList.remove("over"); });
  zone.addEventListener("drop", function (ev) {
    ev.preventDefault();
    zone.classList.remove("over");
    var items = ev.dataTransfer.items;
    var found = [];
    if (items && items.length && items[0].webkitGetAsEntry) {
      var walks = [];
      for (var i = 0; i < items.length; i++) {
        var entry = items[i].webkitGetAsEntry();
        if (entry) { walks.push(walk(entry, "", found)); }
      }
      Promise.all(walks).then(function () { uploadAll(found); });
    } else {
      Array.prototype.forEach.call(ev.dataTransfer.files, function (f) { found.push({file: f, path: f.name}); });
      uploadAll(found);
    }
  });
  document.getElementById("file-input").addEventListener("change", function (ev) {
    var files = Array.prototype.map.call(ev.target.files, function (f) { return {file: f, path: f.name}; });
    ev.target.value = "";
    uploadAll(files);
  });
  document.getElementById("folder-input").addEventListener("change", function (ev) {
    var files = Array.prototype.map.call(ev.target.files, function (f) {
      return {file: f, path: f.webkitRelativePath || f.name};
    });
    ev.target.value = "";
    uploadAll(files);
  });
})();
