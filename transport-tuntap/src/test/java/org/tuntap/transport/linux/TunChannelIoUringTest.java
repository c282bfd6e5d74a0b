package org.tuntap.transport.linux;

import io.netty.buffer.AbstractByteBufAllocator;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelOption;
import io.netty.channel.IoHandlerFactory;
import io.netty.channel.PreferHeapByteBufAllocator;
import io.netty.channel.uring.IoUring;
import io.netty.channel.uring.IoUringIoHandler;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.tuntap.transport.TunAddress;
import org.tuntap.transport.TunChannel;
import org.tuntap.transport.TunChannelConfig;
import org.tuntap.transport.TunChannelOption;
import org.tuntap.transport.spi.Errno;
import org.tuntap.transport.spi.ErrnoException;

import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The native channel's tests (inherited) on Netty's io_uring loop, where the channel polls its fd
 * and writes through the ring; and what only the ring path has: more writes in one flush than
 * it has slots, a packet larger than a slot, a write the kernel fails, a close or a loop shutdown
 * with writes in flight.
 */
@Tag("netns")
class TunChannelIoUringTest extends TunChannelNativeTest {
    private static final byte[] LOCAL = {(byte) 192, 0, 2, 1};
    private static final byte[] PEER = {(byte) 192, 0, 2, 2};

    @Override
    IoHandlerFactory ioHandlerFactory() {
        assumeTrue(IoUring.isAvailable(), () -> "io_uring is unavailable here: " + IoUring.unavailabilityCause());
        return IoUringIoHandler.newFactory();
    }

    @ParameterizedTest(name = "{0} buffers")
    @ValueSource(strings = {"direct", "heap"})
    void aBurstIsReadInBatchesInOrder(String buffers) throws Exception {
        PacketCollector collector = new PacketCollector();
        ByteBufAllocator allocator = buffers.equals("heap")
                ? new PreferHeapByteBufAllocator(new OffsetHeapAllocator()) : ByteBufAllocator.DEFAULT;
        TunChannel channel = (TunChannel) bootstrap(collector).option(ChannelOption.ALLOCATOR, allocator)
                .option(TunChannelOption.MAX_PACKET_SIZE, 2048)
                .bind(new TunAddress("ring%d")).sync().channel();
        upWithAddress(channel);
        try (DatagramSocket socket = socketOnLocal()) {
            int count = 200; // more than a batch's 32 reads: several batches
            for (int i = 0; i < count; i++) {
                byte[] payload = ("burst " + i).getBytes();
                socket.send(new DatagramPacket(payload, payload.length, InetAddress.getByAddress(PEER), 6000));
            }
            for (int i = 0; i < count; i++) {
                byte[] packet = collector.nextUdpTo(6000, false);
                assertNotNull(packet, "datagram " + i + " was not read");
                assertEquals("burst " + i, new String(Ipv4Udp.udpPayload(packet)));
            }
            channel.eventLoop().submit(() -> { }).sync();
            int batches = collector.readCompletes.get();
            assertTrue(batches >= count / 32 && batches < count, "read completions for 200 datagrams: " + batches);
            assertTrue(channel.counters().packetsRead() >= count);
        } finally {
            channel.close().sync();
        }
    }

    @Test
    void withAutoReadOffEachReadCallReadsOneBatch() throws Exception {
        PacketCollector collector = new PacketCollector();
        TunChannel channel = (TunChannel) bootstrap(collector).option(ChannelOption.AUTO_READ, false)
                .bind(new TunAddress("ring%d")).sync().channel();
        upWithAddress(channel);
        try (DatagramSocket socket = socketOnLocal()) {
            for (int i = 0; i < 5; i++) {
                byte[] payload = ("asked " + i).getBytes();
                socket.send(new DatagramPacket(payload, payload.length, InetAddress.getByAddress(PEER), 6001));
            }
            assertNull(collector.packets.poll(300, TimeUnit.MILLISECONDS), "read with auto-read off and no read()");
            int received = 0;
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
            while (received < 5 && System.nanoTime() < deadline) {
                channel.read();
                byte[] packet = collector.packets.poll(100, TimeUnit.MILLISECONDS);
                if (packet != null && Ipv4Udp.version(packet) == 4 && Ipv4Udp.destinationPort(packet) == 6001) {
                    assertEquals("asked " + received, new String(Ipv4Udp.udpPayload(packet)));
                    received++;
                }
            }
            assertEquals(5, received, "datagrams read by read() calls");
        } finally {
            channel.close().sync();
        }
    }

    @Test
    void moreWritesInOneFlushThanTheRingHasSlotsAllArriveInOrder() throws Exception {
        TunChannel channel = boundAndUp();
        try (DatagramSocket socket = socketOnLocal()) {
            int count = 150; // the ring has 64 write slots: the rest wait for completions
            List<ChannelFuture> writes = new ArrayList<>();
            channel.eventLoop().submit(() -> {
                for (int i = 0; i < count; i++) {
                    writes.add(channel.write(reply(socket.getLocalPort(), "datagram " + i)));
                }
                channel.flush();
            }).sync();
            for (int i = 0; i < count; i++) {
                assertEquals("datagram " + i, receive(socket), "datagram " + i + " out of order or lost");
            }
            for (ChannelFuture write : writes) {
                assertTrue(write.await(5, TimeUnit.SECONDS) && write.isSuccess(), "a write's promise: " + write.cause());
            }
            assertEquals(count, channel.counters().packetsWritten());
        } finally {
            channel.close().sync();
        }
    }

    @Test
    void aPacketLargerThanAWriteSlotIsWrittenInItsTurn() throws Exception {
        // Slots are the read size: 600 bytes. The middle datagram is 1028 bytes on the wire.
        TunChannel channel = boundAndUp(600);
        try (DatagramSocket socket = socketOnLocal()) {
            String large = "L".repeat(1000);
            channel.eventLoop().submit(() -> {
                channel.write(reply(socket.getLocalPort(), "before"));
                channel.write(reply(socket.getLocalPort(), large));
                channel.write(reply(socket.getLocalPort(), "after"));
                channel.flush();
            }).sync();
            assertEquals("before", receive(socket));
            assertEquals(large, receive(socket));
            assertEquals("after", receive(socket));
            // The socket can have the last datagram before the loop has taken its completion.
            channel.writeAndFlush(reply(socket.getLocalPort(), "marker")).sync();
            assertEquals("marker", receive(socket));
            assertEquals(4, channel.counters().packetsWritten());
        } finally {
            channel.close().sync();
        }
    }

    @Test
    void aWriteTheKernelFailsFailsItsPromiseAndTheChannelCarriesOn() throws Exception {
        TunChannel channel = boundAndUp();
        try (DatagramSocket socket = socketOnLocal()) {
            String name = channel.localAddress().name();
            LinuxTun.interfaces().setUp(name, false);
            ChannelFuture dropped = channel.writeAndFlush(reply(socket.getLocalPort(), "lost")).await();
            ErrnoException cause = assertInstanceOf(ErrnoException.class, dropped.cause());
            assertEquals(Errno.EIO, cause.errno(), cause.getMessage());
            channel.eventLoop().submit(() -> { }).sync();
            assertTrue(channel.isOpen(), "a link that goes down must not close the channel");
            assertEquals(1, channel.droppedWrites());

            LinuxTun.interfaces().setUp(name, true);
            channel.writeAndFlush(reply(socket.getLocalPort(), "back")).sync();
            assertEquals("back", receive(socket));
            assertEquals(1, channel.droppedWrites());
        } finally {
            channel.close().sync();
        }
    }

    @Test
    void closingWithWritesInFlightCompletesEveryPromiseAndLeaksNothing() throws Exception {
        long fdsBefore = openTunFds();
        TunChannel channel = boundAndUp();
        List<ChannelFuture> writes = new ArrayList<>();
        channel.eventLoop().submit(() -> {
            for (int i = 0; i < 100; i++) {
                writes.add(channel.write(reply(9, "in flight " + i)));
            }
            channel.flush();
            channel.close(); // before any completion: 64 in the ring, 36 waiting for a slot
        }).sync();
        assertTrue(channel.closeFuture().await(5, TimeUnit.SECONDS));
        for (ChannelFuture write : writes) {
            assertTrue(write.await(5, TimeUnit.SECONDS), "a promise was left pending");
        }
        assertFalse(writes.get(99).isSuccess(), "the last write never had a slot before the close");
        awaitTunFds(fdsBefore, "the device fd was closed");
        // The loop goes on with the cancelled registration's last completions: still usable.
        TunChannel next = boundAndUp();
        assertNotEquals(-1, next.fd());
        next.close().sync();
    }

    @Test
    void shuttingTheLoopDownClosesItsChannels() throws Exception {
        long fdsBefore = openTunFds();
        TunChannel channel = boundAndUp();
        channel.eventLoop().submit(() -> {
            for (int i = 0; i < 10; i++) {
                channel.write(reply(9, "at shutdown " + i));
            }
            channel.flush();
        }).sync();
        // A quiet period, not 0: Netty 4.2.18's SingleThreadIoEventLoop closes its registrations
        // (prepareToDestroy) only in a turn that begins while shutting down, and with a quiet period
        // of 0 a shutdown that starts mid-turn ends the loop in that same turn, closing nothing.
        group.shutdownGracefully(100, 1000, TimeUnit.MILLISECONDS).sync();
        assertTrue(channel.closeFuture().isDone(), "the channel outlived its loop");
        awaitTunFds(fdsBefore, "the loop's shutdown closed the device fd");
    }

    private TunChannel boundAndUp() throws Exception {
        return boundAndUp(TunChannelConfig.DEFAULT_MAX_PACKET_SIZE);
    }

    private TunChannel boundAndUp(int maxPacketSize) throws Exception {
        return boundAndUp(new PacketCollector(), maxPacketSize);
    }

    private TunChannel boundAndUp(PacketCollector collector, int maxPacketSize) throws Exception {
        TunChannel channel = (TunChannel) bootstrap(collector)
                .option(TunChannelOption.MAX_PACKET_SIZE, maxPacketSize)
                .bind(new TunAddress("ring%d")).sync().channel();
        upWithAddress(channel);
        return channel;
    }

    private static void upWithAddress(TunChannel channel) throws Exception {
        String name = channel.localAddress().name();
        LinuxInterfaces interfaces = LinuxTun.interfaces();
        interfaces.setIpv4Address(name, (Inet4Address) InetAddress.getByAddress(LOCAL), 24);
        interfaces.setUp(name, true);
    }

    private static DatagramSocket socketOnLocal() throws Exception {
        DatagramSocket socket = new DatagramSocket(null);
        socket.bind(new InetSocketAddress(InetAddress.getByAddress(LOCAL), 0));
        socket.setSoTimeout(5000);
        return socket;
    }

    private static String receive(DatagramSocket socket) throws Exception {
        DatagramPacket received = new DatagramPacket(new byte[2000], 2000);
        socket.receive(received);
        return new String(received.getData(), 0, received.getLength());
    }

    /**
     * Heap buffers whose content starts 7 bytes into their array, as a pooled buffer's does
     * somewhere in its chunk (a pool hands a read loop that releases each packet the same place,
     * often at offset 0, so it would not tell).
     */
    private static final class OffsetHeapAllocator extends AbstractByteBufAllocator {
        OffsetHeapAllocator() {
            super(false);
        }

        @Override
        protected ByteBuf newHeapBuffer(int initialCapacity, int maxCapacity) {
            return Unpooled.buffer(initialCapacity + 7).slice(7, initialCapacity).clear();
        }

        @Override
        protected ByteBuf newDirectBuffer(int initialCapacity, int maxCapacity) {
            return Unpooled.directBuffer(initialCapacity, maxCapacity);
        }

        @Override
        public boolean isDirectBufferPooled() {
            return false;
        }
    }

    /** A UDP datagram from the peer to {@code port} on LOCAL, as the channel would write it. */
    private static ByteBuf reply(int port, String text) {
        return Unpooled.buffer().writeBytes(Ipv4Udp.build(PEER, 5555, LOCAL, port, text.getBytes()));
    }
}
