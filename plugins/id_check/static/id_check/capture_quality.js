/* Capture checks in the browser, before an ID photo is uploaded: the measures and limits of
   plugins/id_check/capture.py (the server checks the upload again with the same ones). The page
   passes the limits from the server, so the two cannot drift apart:
     SigillIdCheck.measureCapture(imageOrVideoOrCanvas, width, height, limits)
       -> {shortSide, blur, glare, brightness, problems: ["too_small" | "blurred" | "glare" | "too_dark"]} */
(function () {
  "use strict";
  var SIDE = 1000;  // measured with the long side at 1000 pixels, as on the server

  function greyPixels(source, width, height) {
    var scale = Math.min(1, SIDE / Math.max(width, height));
    var w = Math.max(1, Math.round(width * scale)), h = Math.max(1, Math.round(height * scale));
    var canvas = document.createElement("canvas");
    canvas.width = w;
    canvas.height = h;
    var context = canvas.getContext("2d", {willReadFrequently: true});
    context.imageSmoothingQuality = "high";
    context.drawImage(source, 0, 0, w, h);
    var rgba = context.getImageData(0, 0, w, h).data;
    var grey = new Float32Array(w * h);
    for (var i = 0, j = 0; j < grey.length; i += 4, j++) {  // Pillow's "L": ITU-R 601-2 luma
      grey[j] = (rgba[i] * 299 + rgba[i + 1] * 587 + rgba[i + 2] * 114) / 1000;
    }
    return {grey: grey, w: w, h: h};
  }

  function percentile(values, share) {
    var sorted = values.slice().sort();
    var at = share * (sorted.length - 1), below = Math.floor(at);
    var above = Math.min(sorted.length - 1, below + 1);
    return sorted[below] + (sorted[above] - sorted[below]) * (at - below);
  }

  // The width of the sharpest edges: p99.5 of the gradient over p99.5 of the Laplacian.
  function blurWidth(image) {
    var g = image.grey, w = image.w, h = image.h;
    var gradient = new Float32Array((w - 1) * (h - 1)), laplacian = new Float32Array((w - 2) * (h - 2));
    var n = 0, m = 0;
    for (var y = 0; y < h - 1; y++) {
      for (var x = 0; x < w - 1; x++) {
        var here = g[y * w + x];
        gradient[n++] = Math.hypot(g[y * w + x + 1] - here, g[(y + 1) * w + x] - here);
      }
    }
    for (y = 1; y < h - 1; y++) {
      for (x = 1; x < w - 1; x++) {
        var centre = g[y * w + x];
        laplacian[m++] = Math.abs(g[y * w + x - 1] + g[y * w + x + 1] + g[(y - 1) * w + x] + g[(y + 1) * w + x]
                                  - 4 * centre);
      }
    }
    return percentile(gradient, 0.995) / Math.max(percentile(laplacian, 0.995), 1);
  }

  function measureCapture(source, width, height, limits) {
    var image = greyPixels(source, width, height);
    var burnt = 0, total = 0;
    for (var i = 0; i < image.grey.length; i++) {
      total += image.grey[i];
      if (image.grey[i] >= 250) burnt++;
    }
    var quality = {shortSide: Math.min(width, height), blur: blurWidth(image), glare: burnt / image.grey.length,
                   brightness: total / image.grey.length, problems: []};
    if (quality.shortSide < limits.minShortSide) quality.problems.push("too_small");
    if (quality.blur > limits.maxBlur) quality.problems.push("blurred");
    if (quality.glare > limits.maxGlare) quality.problems.push("glare");
    if (quality.brightness < limits.minBrightness) quality.problems.push("too_dark");
    return quality;
  }

  window.SigillIdCheck = {measureCapture: measureCapture};
})();
