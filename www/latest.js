// Latest-wins requests: at most one in flight and one waiting per kind of request. A new
// request replaces the waiting one (which resolves to null: superseded), so the worker never
// works through a queue of stale drawings or picks.

export class Latest {
  /** @param {(job: any) => Promise<any>} send runs one job and settles with its result */
  constructor(send) {
    this.send = send;
    this.inFlight = false;
    this.waiting = null;
    this.closed = false;
  }

  /** Drops the waiting request (it resolves to null) and every later one: for a sender that
   *  has gone (the model was switched). */
  close() {
    this.closed = true;
    this.waiting?.resolve(null);
    this.waiting = null;
  }

  /**
   * Submits `make`, called when the job is actually sent (so it reads the newest input then).
   * Resolves to the job's result, or to null if a newer submission replaced it before it was
   * sent; rejects with the job's error.
   * @param {() => any} make
   */
  submit(make) {
    if (this.closed) return Promise.resolve(null);
    return new Promise((resolve, reject) => {
      if (this.waiting) this.waiting.resolve(null);
      this.waiting = { make, resolve, reject };
      this.pump();
    });
  }

  /** Whether nothing is in flight or waiting. */
  get idle() {
    return !this.inFlight && !this.waiting;
  }

  pump() {
    if (this.closed || this.inFlight || !this.waiting) return;
    const { make, resolve, reject } = this.waiting;
    this.waiting = null;
    this.inFlight = true;
    let job;
    try {
      job = make();
    } catch (e) {
      this.inFlight = false;
      reject(e);
      this.pump();
      return;
    }
    Promise.resolve(this.send(job))
      .then(resolve, reject)
      .finally(() => {
        this.inFlight = false;
        this.pump();
      });
  }
}
