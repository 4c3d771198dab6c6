// Qorgan's service worker for the guardian's pages: it shows a push
// message (an arrival or departure, already in the guardian's language) as
// a notification, and a tap opens the children's page.
"use strict";

self.addEventListener("install", () => self.skipWaiting());
self.addEventListener("activate", (ev) => ev.waitUntil(self.clients.claim()));

self.addEventListener("push", (ev) => {
  const text = ev.data ? ev.data.text() : "";
  // The same message sent again (a retry the phone had not yet received)
  // replaces its notification instead of showing twice.
  ev.waitUntil(self.registration.showNotification("Qorgan", { body: text, icon: "/icon.svg", tag: "qorgan-" + text }));
});

self.addEventListener("notificationclick", (ev) => {
  ev.notification.close();
  ev.waitUntil(self.clients.openWindow("/family"));
});
