/**
 * Only in the benchmarks' build of the app (`vite build --mode bench`, bench/src/web-feed.ts), never
 * in the one the relay serves: main.tsx imports this module behind `import.meta.env.MODE ===
 * "bench"`, a branch the production build drops with the module. It lets the bench fill this
 * browser's profile with a made-up feed (core's fillFeed), through a second unlock of the same
 * encrypted store, so that opening the Feed view can be measured on 1,000 posts.
 */
import { nobleCryptoProvider } from "@parley/core";
import { fillFeed } from "@parley/core/testing";
import { Session } from "./session";

declare global {
  interface Window {
    parleyBench?: { fillFeed(passphrase: string, posts: number, comments: number): Promise<void> };
  }
}

window.parleyBench = {
  async fillFeed(passphrase, posts, comments) {
    const session = await Session.unlock(passphrase);
    try {
      await fillFeed(session.client, nobleCryptoProvider, posts, comments);
    } finally {
      await session.lock();
    }
  },
};
