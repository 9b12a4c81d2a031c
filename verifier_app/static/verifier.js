// The camera: show the back camera, grab one frame to a canvas, send it as the QR image of
// the form. Decoding happens on the server (no barcode library in the browser). The notes are
// the page's, in the officer's language (data-* attributes of #camera-note).
(function () {
  "use strict";
  const start = document.getElementById("start-camera");
  const capture = document.getElementById("capture");
  const video = document.getElementById("video");
  const canvas = document.getElementById("frame");
  const note = document.getElementById("camera-note");
  const form = document.getElementById("qr-form");
  const input = document.getElementById("image");
  if (!start || !form) return;
  const MAX_SIDE = 1600; // enough for a dense QR code, small enough to upload quickly

  if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
    start.disabled = true;
    note.textContent = note.dataset.noCamera;
    return;
  }

  start.addEventListener("click", async function () {
    try {
      const stream = await navigator.mediaDevices.getUserMedia({
        video: { facingMode: "environment", width: { ideal: 1280 } },
        audio: false,
      });
      video.srcObject = stream;
      await video.play();
      document.getElementById("camera").hidden = false;
      start.hidden = true;
      note.textContent = note.dataset.hold;
    } catch (error) {
      note.textContent = note.dataset.failed + " (" + error.name + ")";
    }
  });

  capture.addEventListener("click", function () {
    const scale = Math.min(1, MAX_SIDE / Math.max(video.videoWidth, video.videoHeight));
    canvas.width = Math.round(video.videoWidth * scale);
    canvas.height = Math.round(video.videoHeight * scale);
    canvas.getContext("2d").drawImage(video, 0, 0, canvas.width, canvas.height);
    canvas.toBlob(function (blob) {
      if (!blob) { note.textContent = note.dataset.nothing; return; }
      const files = new DataTransfer();
      files.items.add(new File([blob], "camera.jpg", { type: "image/jpeg" }));
      input.files = files.files;
      if (video.srcObject) video.srcObject.getTracks().forEach(function (t) { t.stop(); });
      note.textContent = note.dataset.verifying;
      form.submit();
    }, "image/jpeg", 0.9);
  });
})();
