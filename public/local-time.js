// The server writes every time in UTC, inside <time datetime="…Z">. Here each <time data-local>
// is rewritten in the reader's time zone and the page's language, and each <time data-ago>
// ("2 minutes ago") gets that local time as its title. Without JavaScript the UTC text stays.
const format = new Intl.DateTimeFormat(document.documentElement.lang || undefined, {
  dateStyle: "medium",
  timeStyle: "short",
});
for (const el of document.querySelectorAll("time[data-local], time[data-ago]")) {
  const at = new Date(el.dateTime);
  if (Number.isNaN(at.getTime())) continue;
  if (el.hasAttribute("data-local")) el.textContent = format.format(at);
  else el.title = format.format(at);
}
