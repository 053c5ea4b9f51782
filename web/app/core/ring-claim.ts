// One IndexedDB ring per tab. A viewer's ring (and its GUID, kept per ring name) must have one writer and
// one session with the server: two tabs sharing them would write one ring at once and the server would
// close one of their sessions as a duplicate. So a tab holds a Web Lock on its ring's name for its
// lifetime, and a second tab takes the next name ("stateos-app 2", ...), which the next visit reuses.

/** The first of `base`, `base 2`, … `base max` no other tab holds; held until the page goes away. */
export async function claimRing(base: string, max = 16): Promise<string> {
  const locks = globalThis.navigator?.locks;
  if (!locks) return base; // no Web Locks (an old browser): one tab at a time, as before
  for (let i = 1; i <= max; i++) {
    const name = i === 1 ? base : `${base} ${i}`;
    const held = await new Promise<boolean>((resolve, reject) => {
      locks
        .request(`stateos-ring:${name}`, { ifAvailable: true }, (lock) => {
          resolve(lock !== null);
          // keep it: a promise that never settles holds the lock until the page is gone
          return lock ? new Promise<void>(() => undefined) : undefined;
        })
        .catch(reject);
    });
    if (held) return name;
  }
  throw new Error(`${max} tabs already hold a viewer ring of this server: close one`);
}
