package org.tuntap.testkit;

import io.netty.channel.IoHandle;
import io.netty.channel.IoHandler;
import io.netty.channel.IoHandlerContext;
import io.netty.channel.IoHandlerFactory;
import io.netty.channel.IoOps;
import io.netty.channel.IoRegistration;
import io.netty.util.concurrent.ThreadAwareExecutor;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A Netty {@link IoHandler} for in-memory files: what epoll is to real fds. Use it like any
 * other: {@code new MultiThreadIoEventLoopGroup(1, MemoryIoHandler.newFactory())}, or drive it
 * by hand with a {@link io.netty.channel.ManualIoEventLoop} (as {@link TunnelHarness} does).
 *
 * <p>Level-triggered, like epoll without {@code EPOLLET}: each run delivers an event to every
 * registration whose interest meets its file's readiness. When nothing is ready it sleeps until
 * a file signals a change through its {@link Pollable#setReadinessListener readiness listener},
 * a wake-up, or the next scheduled task: no polling.
 */
public final class MemoryIoHandler implements IoHandler {

    private final Object lock = new Object();
    private boolean signalled; // guarded by lock
    private final List<Registration> registrations = new ArrayList<>(); // event-loop thread only
    private final ThreadAwareExecutor executor;

    private MemoryIoHandler(ThreadAwareExecutor executor) {
        this.executor = executor;
    }

    /**
     * The factory for {@code new MultiThreadIoEventLoopGroup(n, MemoryIoHandler.newFactory())}.
     *
     * @return a factory making one handler per event loop
     */
    public static IoHandlerFactory newFactory() {
        return MemoryIoHandler::new;
    }

    @Override
    public int run(IoHandlerContext context) {
        synchronized (lock) {
            signalled = false;
        }
        int handled = deliverReadyEvents();
        if (handled == 0 && context.canBlock()) {
            awaitSignal(context.delayNanos(System.nanoTime()));
            handled = deliverReadyEvents();
        }
        return handled;
    }

    private void awaitSignal(long timeoutNanos) {
        long deadline = System.nanoTime() + timeoutNanos;
        synchronized (lock) {
            long remaining = timeoutNanos;
            while (!signalled && remaining > 0) {
                try {
                    TimeUnit.NANOSECONDS.timedWait(lock, remaining);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return;
                }
                remaining = deadline - System.nanoTime();
            }
            signalled = false;
        }
    }

    private int deliverReadyEvents() {
        if (registrations.isEmpty()) {
            return 0;
        }
        int handled = 0;
        // A copy: handling an event may register, cancel or close channels.
        for (Registration registration : registrations.toArray(new Registration[0])) {
            if (registration.deliverIfReady()) {
                handled++;
            }
        }
        return handled;
    }

    /** A file's readiness may have changed. */
    private void fileChanged() {
        // The loop's own changes (a channel writing, say) need no wake-up: run() looks at every
        // file's readiness again before it sleeps. Only other threads must wake it.
        if (!executor.isExecutorThread(Thread.currentThread())) {
            signal();
        }
    }

    private void signal() {
        synchronized (lock) {
            signalled = true;
            lock.notifyAll();
        }
    }

    @Override
    public void wakeup() {
        signal();
    }

    @Override
    public IoRegistration register(IoHandle handle) {
        MemoryIoHandle memoryHandle = (MemoryIoHandle) handle;
        Registration registration = new Registration(memoryHandle);
        registrations.add(registration);
        memoryHandle.file().setReadinessListener(this::fileChanged);
        memoryHandle.registered();
        return registration;
    }

    @Override
    public boolean isCompatible(Class<? extends IoHandle> handleType) {
        return MemoryIoHandle.class.isAssignableFrom(handleType);
    }

    @Override
    public void prepareToDestroy() {
        for (Registration registration : registrations.toArray(new Registration[0])) {
            try {
                registration.handle.close();
            } catch (Exception e) {
                // Closing a channel on shutdown: nothing more useful to do with the failure.
            }
        }
    }

    @Override
    public void destroy() {
        for (Registration registration : registrations.toArray(new Registration[0])) {
            registration.cancel();
        }
    }

    private final class Registration implements IoRegistration {
        private final MemoryIoHandle handle;
        private MemoryIoOps interest = MemoryIoOps.NONE;
        private boolean valid = true;

        Registration(MemoryIoHandle handle) {
            this.handle = handle;
        }

        boolean deliverIfReady() {
            if (!valid) {
                return false;
            }
            boolean readable = interest.isRead() && handle.file().isReadable();
            boolean writable = interest.isWrite() && handle.file().isWritable();
            if (!readable && !writable) {
                return false;
            }
            handle.handle(this, MemoryIoOps.of(readable, writable));
            return true;
        }

        @Override
        @SuppressWarnings("unchecked")
        public <T> T attachment() {
            return (T) handle.file();
        }

        @Override
        public long submit(IoOps ops) {
            if (!valid) {
                throw new IllegalStateException("registration cancelled");
            }
            interest = (MemoryIoOps) ops;
            if (!executor.isExecutorThread(Thread.currentThread())) {
                signal(); // new interest from another thread: let the loop look again
            }
            return 0;
        }

        @Override
        public boolean isValid() {
            return valid;
        }

        @Override
        public boolean cancel() {
            if (!valid) {
                return false;
            }
            valid = false;
            interest = MemoryIoOps.NONE;
            registrations.remove(this);
            handle.file().setReadinessListener(null);
            handle.unregistered();
            return true;
        }
    }
}
