// The school on a map on the alarm page (alarm.html): Leaflet draws the
// installation's tile server's tiles with the school marked. Everything it
// needs is in the map element's data attributes: no inline script.
(function () {
  "use strict";
  const el = document.getElementById("school-map");
  if (!el || !window.L) {
    return;
  }
  const d = el.dataset;
  const at = [parseFloat(d.lat), parseFloat(d.lon)];
  const map = L.map(el, { scrollWheelZoom: false, zoomControl: false }).setView(at, 16);
  L.control.zoom({ zoomInTitle: d.zoomIn, zoomOutTitle: d.zoomOut }).addTo(map);
  L.tileLayer(d.tiles, { maxZoom: 19 }).addTo(map);
  // The marker's pictures by their hashed URLs: Leaflet's default icon
  // finds its path through the stylesheet, which the hashed names break.
  const icon = L.icon({
    iconUrl: d.icon, iconRetinaUrl: d.icon2x, shadowUrl: d.shadow,
    iconSize: [25, 41], iconAnchor: [12, 41], popupAnchor: [1, -34], tooltipAnchor: [16, -28], shadowSize: [41, 41],
  });
  L.marker(at, { icon: icon, title: d.label, alt: d.label, keyboard: false }).addTo(map).bindTooltip(d.label, { permanent: true, direction: "top", offset: [0, -36] });
  el.classList.add("ready");
})();
