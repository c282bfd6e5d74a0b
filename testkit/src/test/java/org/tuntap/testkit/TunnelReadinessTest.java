package org.tuntap.testkit;

import org.junit.jupiter.api.Test;
import org.tuntap.transport.spi.Errno;
import org.tuntap.transport.spi.ErrnoException;
import org.tuntap.transport.spi.OpenFlags;
import org.tuntap.transport.spi.TunIoctl;

import java.nio.ByteBuffer;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.tuntap.testkit.Tunnels.TUN;
import static org.tuntap.testkit.Tunnels.ipv4;

/** The tunnel as a {@link Pollable}: readiness, and the listener that reports its changes. */
class TunnelReadinessTest {

    private final MemoryIoSystem system = new MemoryIoSystem();
    private final AtomicInteger wakeUps = new AtomicInteger();

    private Tunnel listenedTunnel() throws ErrnoException {
        Tunnel tunnel = Tunnels.attached(system, TUN);
        tunnel.setReadinessListener(wakeUps::incrementAndGet);
        return tunnel;
    }

    @Test
    void readableExactlyWhileAPacketIsQueued() throws ErrnoException {
        Tunnel tunnel = listenedTunnel();
        assertFalse(tunnel.isReadable());
        tunnel.addToReadBuffer(ipv4(20));
        assertTrue(tunnel.isReadable());
        tunnel.read(100);
        assertFalse(tunnel.isReadable());
        assertTrue(tunnel.isWritable());
    }

    @Test
    void queueingAPacketWakesTheListener() throws ErrnoException {
        Tunnel tunnel = listenedTunnel();
        tunnel.addToReadBuffer(ipv4(20));
        assertEquals(1, wakeUps.get());
        tunnel.addRawToReadBuffer(ipv4(20));
        assertEquals(2, wakeUps.get());
    }

    @Test
    void takingWrittenPacketsOutWakesTheListenerOnlyWhenSomethingWasTaken() throws ErrnoException {
        Tunnel tunnel = listenedTunnel();
        tunnel.write(ipv4(20));
        tunnel.write(ipv4(20));
        tunnel.write(ipv4(20));
        assertEquals(0, wakeUps.get(), "writes make nothing more ready");
        tunnel.takeWritten();
        assertEquals(1, wakeUps.get());
        tunnel.pollWritten();
        assertEquals(2, wakeUps.get());
        tunnel.takeAllWritten();
        assertEquals(3, wakeUps.get());
        assertNull(tunnel.pollWritten());
        tunnel.takeAllWritten();
        assertEquals(3, wakeUps.get());
    }

    @Test
    void aFullWriteBufferWakesTheWriterWhenTheTestMakesRoom() throws ErrnoException {
        Tunnel tunnel = listenedTunnel();
        tunnel.setWriteCapacity(1);
        tunnel.write(ipv4(20));
        AtomicReference<Boolean> writableAtWakeUp = new AtomicReference<>();
        tunnel.setReadinessListener(() -> writableAtWakeUp.set(tunnel.isWritable()));
        assertFalse(tunnel.isWritable());
        tunnel.takeWritten();
        assertEquals(Boolean.TRUE, writableAtWakeUp.get(), "the listener sees the new state");
    }

    @Test
    void closingWakesTheListenerOnceAndLeavesTheTunnelReadableAndWritable() throws ErrnoException {
        int fd = Tunnels.open(system, "tun%d", TUN);
        Tunnel tunnel = system.tunnel(fd);
        tunnel.setReadinessListener(wakeUps::incrementAndGet);
        tunnel.setWriteCapacity(0);
        wakeUps.set(0);
        system.close(fd);
        assertEquals(1, wakeUps.get());
        assertTrue(tunnel.isReadable(), "a read would fail with EBADF, not EAGAIN");
        assertTrue(tunnel.isWritable());
        tunnel.close();
        assertEquals(1, wakeUps.get(), "closing twice wakes no one");
    }

    @Test
    void changingTheTestControlsWakesTheListener() throws ErrnoException {
        Tunnel tunnel = listenedTunnel();
        tunnel.setWriteCapacity(3);
        assertEquals(1, wakeUps.get());
        tunnel.setEmptyReadError(Errno.EIO);
        assertEquals(2, wakeUps.get());
        tunnel.setEmptyReadError(() -> new IllegalStateException("x"));
        assertEquals(3, wakeUps.get());
        tunnel.resetEmptyReadError();
        assertEquals(4, wakeUps.get());
    }

    @Test
    void aRemovedListenerIsNotCalled() throws ErrnoException {
        Tunnel tunnel = listenedTunnel();
        tunnel.setReadinessListener(null);
        tunnel.addToReadBuffer(ipv4(20));
        assertEquals(0, wakeUps.get());
    }

    @Test
    void anUnattachedTunnelIsReadyAsEpollReportsAnErrorForIt() throws ErrnoException {
        Tunnel tunnel = system.tunnel(system.open(TunIoctl.DEVICE_PATH, OpenFlags.TUN_PORT));
        assertTrue(tunnel.isReadable());
        assertTrue(tunnel.isWritable());
    }

    @Test
    void theListenerRunsOnTheChangingThreadWithNoLockHeld() throws Exception {
        Tunnel tunnel = Tunnels.attached(system, TUN);
        AtomicReference<Thread> listenerThread = new AtomicReference<>();
        AtomicReference<Boolean> otherThreadGotIn = new AtomicReference<>();
        tunnel.setReadinessListener(() -> {
            listenerThread.set(Thread.currentThread());
            // An event loop thread asking for readiness must not be stuck behind our lock.
            Thread loop = new Thread(() -> otherThreadGotIn.set(tunnel.isReadable() && system.pollable(
                    system.tunnels().indexOf(tunnel) + MemoryIoSystem.FIRST_FD) == tunnel));
            loop.start();
            try {
                loop.join(TimeUnit.SECONDS.toMillis(10));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        tunnel.addToReadBuffer(ipv4(20));
        assertSame(Thread.currentThread(), listenerThread.get());
        assertEquals(Boolean.TRUE, otherThreadGotIn.get());
    }

    @Test
    void aReaderThreadGetsEveryPacketQueuedByTheTestThreadInOrder() throws Exception {
        int fd = Tunnels.open(system, "tun%d", TUN);
        Tunnel tunnel = system.tunnel(fd);
        int count = 20_000;
        Semaphore wakeUp = new Semaphore(0);
        tunnel.setReadinessListener(wakeUp::release);
        AtomicReference<Throwable> failure = new AtomicReference<>();
        AtomicInteger received = new AtomicInteger();
        Thread reader = new Thread(() -> {
            try {
                while (received.get() < count) {
                    if (!tunnel.isReadable()) {
                        wakeUp.tryAcquire(10, TimeUnit.SECONDS);
                        continue;
                    }
                    byte[] packet = system.read(fd, 100);
                    int sequence = ByteBuffer.wrap(packet).getInt(4);
                    if (sequence != received.get()) {
                        throw new AssertionError("expected packet " + received.get() + ", got " + sequence);
                    }
                    received.incrementAndGet();
                }
            } catch (Throwable t) {
                failure.set(t);
            }
        }, "reader");
        reader.start();
        for (int sequence = 0; sequence < count; sequence++) {
            byte[] packet = ipv4(20);
            ByteBuffer.wrap(packet).putInt(4, sequence);
            tunnel.addToReadBuffer(packet);
        }
        reader.join(TimeUnit.SECONDS.toMillis(60));
        assertFalse(reader.isAlive(), "reader stuck after " + received.get() + " packets");
        assertNull(failure.get());
        assertEquals(count, received.get());
        assertEquals(0, tunnel.readBufferSize());
    }
}
