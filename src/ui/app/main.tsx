/**
 * The web UI at `/ui/`: a shell with a navigation bar and one page per hash
 * route (`#/`, `#/model/<id>`, `#/activity`, `#/playground`, `#/logs`).
 */
import { render } from "hono/jsx/dom";
import "uplot/dist/uPlot.min.css";
import "./style.css";
import { useLive, useRoute } from "./api.ts";
import { live } from "./live.ts";
import { ModelsPage } from "./pages/models.tsx";
import { ModelPage } from "./pages/model.tsx";
import { ActivityPage } from "./pages/activity.tsx";
import { PlaygroundPage } from "./pages/playground.tsx";
import { LogsPage } from "./pages/logs.tsx";

const NAV: Array<[string, string]> = [
  ["#/", "Models"],
  ["#/activity", "Activity"],
  ["#/playground", "Playground"],
  ["#/logs", "Logs"],
];

function Page({ route }: { route: string[] }) {
  switch (route[0]) {
    case undefined:
    case "models":
      return <ModelsPage />;
    case "model":
      return <ModelPage id={route.slice(1).join("/")} />;
    case "activity":
      return <ActivityPage />;
    case "playground":
      return <PlaygroundPage />;
    case "logs":
      return <LogsPage />;
    default:
      return <p class="empty">No page here: {route.join("/")}</p>;
  }
}

function App() {
  const route = useRoute();
  const s = useLive();
  const here = `#/${route[0] === "model" ? "" : (route[0] ?? "")}`;
  return (
    <div class={s.connected ? "app" : "app stale"}>
      <header>
        <span class="brand">modelswap</span>
        <nav>
          {NAV.map(([href, label]) => (
            <a href={href} class={here === href ? "active" : ""}>
              {label}
            </a>
          ))}
        </nav>
        <span class="conn" data-testid="connection">
          {s.connected ? `live · ${s.inflight} in flight` : "disconnected: reconnecting… (what you see may be stale)"}
        </span>
      </header>
      <main>
        <Page route={route} />
      </main>
    </div>
  );
}

live.start();
render(<App />, document.getElementById("root")!);
