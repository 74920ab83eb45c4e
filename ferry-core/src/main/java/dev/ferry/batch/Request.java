package dev.ferry.batch;

import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicIntegerFieldUpdater;
import java.util.function.Function;

/**
 * One caller's request: its key, its deadline, and where it is. The state goes from QUEUED to SENT (taken into a
 * batch) or to WITHDRAWN (cancelled or abandoned before it was taken), exactly once, by CAS: so a withdrawn
 * request is never executed, and a sent one is never reported as withdrawn.
 */
final class Request<K, V> {

    static final int QUEUED = 0;
    static final int SENT = 1;
    static final int WITHDRAWN = 2;

    private static final AtomicIntegerFieldUpdater<Request> STATE =
            AtomicIntegerFieldUpdater.newUpdater(Request.class, "state");

    /**
     * Told once when a request's own future completes, in whatever way (value, error, cancel), on the completing
     * thread, which holds no lock of the batcher's: how {@code loadMany} follows a page of requests without a
     * callback stage per key.
     */
    interface Listener<V> {
        void completed(V value, Throwable error);
    }

    final K key;
    final long enqueuedAt;
    final long deadline;
    final Future<V> future;
    private volatile int state = QUEUED;
    /** The outcome while its batch runs ({@link Outcomes}); touched only by the thread running the batch. */
    boolean decided;
    V value;
    java.sql.SQLException error;

    Request(K key, long enqueuedAt, long deadline) {
        this(key, enqueuedAt, deadline, null);
    }

    Request(K key, long enqueuedAt, long deadline, Listener<V> listener) {
        this.key = key;
        this.enqueuedAt = enqueuedAt;
        this.deadline = deadline;
        this.future = new Future<>(this, listener);
    }

    /** Takes the request into a batch; false if it was withdrawn first. */
    boolean send() {
        return STATE.compareAndSet(this, QUEUED, SENT);
    }

    /** Withdraws a request not yet sent; false once it is sent (or already withdrawn). */
    boolean withdraw() {
        return STATE.compareAndSet(this, QUEUED, WITHDRAWN);
    }

    boolean isWithdrawn() {
        return state == WITHDRAWN;
    }

    /** Withdraws the request and cancels its future; false if it was already sent. */
    boolean abandon() {
        if (withdraw()) {
            future.superCancel();
            return true;
        }
        return state == WITHDRAWN;
    }

    /**
     * The future a caller holds. {@code cancel} withdraws the request if it has not been sent, and then the
     * request is never executed; once sent it cannot be cancelled ({@code cancel} returns false), and the future
     * completes with the real outcome. Dependents ({@code thenApply} and so on) are plain futures.
     */
    static final class Future<T> extends CompletableFuture<T> {
        private final Request<?, ?> request;
        private final Listener<T> listener;

        Future(Request<?, ?> request) {
            this(request, null);
        }

        Future(Request<?, ?> request, Listener<T> listener) {
            this.request = request;
            this.listener = listener;
        }

        @Override
        public boolean complete(T value) {
            boolean done = super.complete(value);
            if (done && listener != null) {
                tell(value, null);
            }
            return done;
        }

        @Override
        public boolean completeExceptionally(Throwable error) {
            boolean done = super.completeExceptionally(error);
            if (done && listener != null) {
                tell(null, error);
            }
            return done;
        }

        @Override
        public boolean cancel(boolean mayInterruptIfRunning) {
            if (request.withdraw()) {
                request.future.superCancel(); // the batcher skips it when it drains the queue
                super.cancel(mayInterruptIfRunning);
                return true;
            }
            return isCancelled();
        }

        /**
         * A future of {@code mapper} applied to this one's value, which cancels like this one: a helper's
         * {@code load(key)} can be cancelled as well as the batcher's own future.
         */
        <R> Future<R> map(Function<? super T, ? extends R> mapper) {
            Future<R> mapped = new Future<>(request);
            whenComplete((value, error) -> {
                if (error != null) {
                    if (error instanceof CancellationException) {
                        mapped.superCancel();
                    } else {
                        mapped.completeExceptionally(error);
                    }
                    return;
                }
                R r;
                try {
                    r = mapper.apply(value);
                } catch (RuntimeException | Error e) {
                    mapped.completeExceptionally(e);
                    return;
                }
                mapped.complete(r);
            });
            return mapped;
        }

        /** Tells the listener; what it throws must not stop the batch from completing its other requests. */
        private void tell(T value, Throwable error) {
            try {
                listener.completed(value, error);
            } catch (RuntimeException | Error e) {
                org.slf4j.LoggerFactory.getLogger(Request.class).warn("a request's completion listener threw", e);
            }
        }

        private void superCancel() {
            if (super.cancel(false) && listener != null) {
                tell(null, new CancellationException("the request was withdrawn before it was sent"));
            }
        }

        @Override
        public <U> CompletableFuture<U> newIncompleteFuture() {
            return new CompletableFuture<>();
        }
    }
}
