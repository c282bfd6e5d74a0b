package org.tuntap.testkit.nativeio;

import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFuture;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.epoll.EpollIoHandler;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.tuntap.codec.ipv4.Ipv4Codec;
import org.tuntap.codec.udp.UdpCodec;
import org.tuntap.testkit.support.DatagramEcho;
import org.tuntap.testkit.support.Pipelines;
import org.tuntap.transport.TunChannel;
import org.tuntap.transport.TunMode;
import org.tuntap.transport.linux.LinuxInterfaces;
import org.tuntap.transport.linux.LinuxTun;
import org.tuntap.transport.spi.Errno;
import org.tuntap.transport.spi.ErrnoException;

import java.io.IOException;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetSocketAddress;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.tuntap.testkit.nativeio.NativeDevices.APP;
import static org.tuntap.testkit.nativeio.NativeDevices.KERNEL;

/**
 * An administrator bounces the link ({@code ip link set DEV down}, then {@code up}) while a
 * kernel socket keeps datagrams flowing to the echo: the channel stays open through it, what it
 * writes while the link is down is dropped and counted, and the echo answers again once the link
 * is up.
 */
@Tag("netns")
class LinkDownUnderLoadNativeTest {
    private static final InetSocketAddress ECHO = new InetSocketAddress(APP, 7);

    private MultiThreadIoEventLoopGroup group;

    @BeforeEach
    void epollGroup() {
        Netns.require();
        group = new MultiThreadIoEventLoopGroup(1, EpollIoHandler.newFactory());
    }

    @AfterEach
    void shutdown() throws Exception {
        if (group != null) {
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS).sync();
        }
    }

    @Test
    void theEchoAnswersAgainAfterTheLinkWentDownAndUpUnderLoad() throws Exception {
        DatagramEcho echo = new DatagramEcho();
        TunChannel channel = NativeDevices.bind(NativeDevices.bootstrap(group, TunMode.TUN, false)
                .handler(Pipelines.of(ch -> ch.pipeline().addLast(new Ipv4Codec(), new UdpCodec(), echo))), "bounce%d");
        AtomicBoolean loading = new AtomicBoolean(true);
        AtomicLong sent = new AtomicLong();
        AtomicLong attempts = new AtomicLong();
        Thread load = null;
        NativeDevices.connect(channel);
        try (DatagramSocket probe = new DatagramSocket(new InetSocketAddress(KERNEL, 0));
             DatagramSocket loadSocket = new DatagramSocket(new InetSocketAddress(KERNEL, 0))) {
            String name = channel.localAddress().name();
            LinuxInterfaces interfaces = LinuxTun.interfaces();
            assertEchoAnswers(probe, "before");

            load = new Thread(() -> {
                byte[] payload = "load".getBytes(StandardCharsets.US_ASCII);
                while (loading.get()) {
                    attempts.incrementAndGet();
                    try {
                        loadSocket.send(new DatagramPacket(payload, payload.length, ECHO));
                        sent.incrementAndGet();
                    } catch (IOException unreachable) {
                        // no route while the link is down: keep trying
                    }
                    LockSupport.parkNanos(50_000); // load, not a busy loop on a shared machine
                }
            }, "load");
            load.start();
            // On a contended machine the thread may not run for a while: the bounce must happen under load.
            awaitAdvance(sent, 0, "the load thread sent nothing");

            for (int round = 1; round <= 3; round++) {
                interfaces.setUp(name, false);
                awaitAdvance(attempts, attempts.get(), "round " + round + ": the load thread did not try while the link was down");
                // What the echo writes now fails in the kernel with EIO; one reply for certain:
                ChannelFuture whileDown = channel.writeAndFlush(new io.netty.channel.socket.DatagramPacket(
                        Unpooled.copiedBuffer("lost", StandardCharsets.US_ASCII),
                        (InetSocketAddress) probe.getLocalSocketAddress(), ECHO)).await();
                ErrnoException cause = assertInstanceOf(ErrnoException.class, whileDown.cause());
                assertEquals(Errno.EIO, cause.errno(), cause.getMessage());
                interfaces.setUp(name, true);
                assertTrue(channel.isOpen(), "round " + round + ": the channel closed");
                assertEchoAnswers(probe, "after round " + round);
            }
            assertTrue(channel.droppedWrites() >= 3, "dropped writes: " + channel.droppedWrites());
        } finally {
            loading.set(false);
            if (load != null) {
                load.join();
            }
            channel.close().sync();
        }
    }

    /** Waits (up to 10 s) until {@code counter} has moved past {@code from}. */
    private static void awaitAdvance(AtomicLong counter, long from, String failure) {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (counter.get() <= from) {
            assertTrue(System.nanoTime() < deadline, failure);
            LockSupport.parkNanos(1_000_000);
        }
    }

    /** A datagram of the probe's own comes back (the load's replies go to the load socket). */
    private static void assertEchoAnswers(DatagramSocket probe, String when) throws Exception {
        String text = "probe " + when;
        byte[] bytes = text.getBytes(StandardCharsets.US_ASCII);
        probe.setSoTimeout(1000);
        for (int attempt = 0; attempt < 5; attempt++) {
            probe.send(new DatagramPacket(bytes, bytes.length, ECHO));
            try {
                while (true) {
                    DatagramPacket reply = new DatagramPacket(new byte[100], 100);
                    probe.receive(reply);
                    if (text.equals(new String(reply.getData(), 0, reply.getLength(), StandardCharsets.US_ASCII))) {
                        return;
                    } // else a late answer to an earlier probe
                }
            } catch (SocketTimeoutException lost) {
                // the kernel's queue to the device may drop a datagram under load: ask again
            }
        }
        throw new AssertionError("the echo did not answer " + when);
    }
}
