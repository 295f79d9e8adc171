import { send } from "./sync.js";

/**
 * Sends a canvas layer (mask or markup) as PNG bytes, in commit order: `commit(blobPromise)`
 * after each finished change, `commit(null)` when the layer is now empty (no buffer). A PNG
 * still being encoded when the image changes belongs to the old image: `invalidate()` drops it.
 */
export function createPngSender(model, message, onError = () => {}) {
  let chain = Promise.resolve();
  let generation = 0;
  return {
    commit(blobPromise) {
      const gen = generation;
      const bytes = blobPromise ? Promise.resolve(blobPromise).then((blob) => blob.arrayBuffer()) : Promise.resolve(null);
      bytes.catch(() => {});
      chain = chain
        .then(() => bytes)
        .then((buffer) => {
          if (gen === generation) send(model, message(), buffer ? [buffer] : []);
        })
        .catch(onError);
      return chain;
    },
    invalidate() {
      generation += 1;
    },
  };
}
