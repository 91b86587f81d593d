// The demo's service worker (registered as a module by app.js when "Notify me" is on):
// one notification per pushed message id, none for a message a visible tab shows.
import { installWebPush } from "/sdk.js";

installWebPush(self, {
  render: (m) => ({
    title: "Switchboard demo",
    options: {
      body: m.truncated ? "A message arrived: open the demo to read it" : typeof m.data?.text === "string" ? m.data.text : JSON.stringify(m.data),
    },
  }),
});

self.addEventListener("notificationclick", (event) => {
  event.notification.close();
  event.waitUntil(self.clients.openWindow("/"));
});
