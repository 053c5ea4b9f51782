// The web app's entry (web/index.html): joins the state server as a viewer over WebRTC (the server that
// served the page, or ?server=URL), follows its objects and the link, and hands them to <stateos-app>.
import { type Viewer, startViewer } from '../sync/viewer.ts';
import { ConnectionModel } from './core/connection.ts';
import { ObjectsModel } from './core/objects.ts';
import { claimRing } from './core/ring-claim.ts';
import { Router } from './shell/router.ts';
import './shell/stateos-app.ts';
import './styles/theme.css';

declare global {
  interface Window {
    /** The app's models, for the console and the tests. */
    stateos?: { viewer?: Viewer; model?: ObjectsModel; connection: ConnectionModel; router: Router };
  }
}

const router = new Router();
const httpServer = router.route.server ?? '';
const server = httpServer || location.origin;
const connection = new ConnectionModel(server);
const app = document.querySelector('stateos-app') ?? document.body.appendChild(document.createElement('stateos-app'));
app.router = router;
app.server = httpServer;
app.connection = connection;
window.stateos = { connection, router };

try {
  const viewer = await startViewer({
    server,
    // one ring per server joined (the metadata of two clusters do not mix), and per tab
    ringName: await claimRing(httpServer ? `stateos-app ${httpServer}` : 'stateos-app'),
    log: connection.logger((line) => console.debug(line)),
  });
  const model = new ObjectsModel(viewer.engine);
  model.start();
  connection.follow(viewer.hub);
  connection.followStore(viewer.store);
  app.viewer = viewer;
  app.model = model;
  window.stateos = { viewer, model, connection, router };
  addEventListener('pagehide', (e) => {
    if (!e.persisted) void viewer.close();
  });
} catch (e) {
  connection.fail((e as Error).message);
  console.warn('stateos: the viewer could not start', e);
}
