package org.tuntap.testkit.channel;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelOption;
import io.netty.channel.WriteBufferWaterMark;
import io.netty.util.AbstractReferenceCounted;
import io.netty.util.ReferenceCounted;
import org.junit.jupiter.api.Test;
import org.tuntap.testkit.MemoryIoSystem;
import org.tuntap.testkit.TunnelHarness;
import org.tuntap.testkit.Tunnel;
import org.tuntap.transport.TunAddress;
import org.tuntap.transport.TunBindException;
import org.tuntap.transport.TunChannel;
import org.tuntap.transport.TunChannelOption;
import org.tuntap.transport.TunMode;
import org.tuntap.transport.spi.Errno;
import org.tuntap.transport.spi.ErrnoException;
import org.tuntap.transport.spi.TunIoctl;

import java.nio.channels.ClosedChannelException;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * TunChannel against the in-memory tunnel: the behaviours Twisted's test_tuntap.py pins for its
 * TuntapPort (open, configure, read, write, stop), plus Netty's conventions.
 */
class TunChannelTest {

    /** Collects packets as bytes (releasing them) and counts read batches. */
    static final class Recorder extends ChannelInboundHandlerAdapter {
        final List<byte[]> packets = new ArrayList<>();
        final List<Throwable> exceptions = new ArrayList<>();
        int readCompletes;

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            ByteBuf packet = (ByteBuf) msg;
            try {
                packets.add(ByteBufUtil.getBytes(packet));
            } finally {
                packet.release();
            }
        }

        @Override
        public void channelReadComplete(ChannelHandlerContext ctx) {
            readCompletes++;
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            exceptions.add(cause);
        }
    }

    // ---- bind: open /dev/net/tun, TUNSETIFF ----

    @Test
    void bindOpensTheCloneDeviceNonBlockingCloseOnExecAndNamesTheDevice() {
        MemoryIoSystem system = new MemoryIoSystem();
        try (TunnelHarness first = TunnelHarness.builder().ioSystem(system).build();
             TunnelHarness second = TunnelHarness.builder().ioSystem(system).build()) {
            Tunnel tunnel = first.tunnel();
            assertFalse(tunnel.blocking(), "opened O_NONBLOCK");
            assertTrue(tunnel.closeOnExec(), "opened O_CLOEXEC");
            assertEquals(new TunAddress("tun0"), first.channel().localAddress());
            assertEquals(new TunAddress("tun1"), second.channel().localAddress());
            assertEquals(TunIoctl.IFF_TUN | TunIoctl.IFF_NO_PI, tunnel.tunnelMode());
            assertTrue(first.channel().isActive());
            assertEquals(MemoryIoSystem.FIRST_FD, first.channel().fd());
        }
    }

    @Test
    void bindKeepsAnExplicitNameAndSendsModeAndPacketInfoFlags() {
        try (TunnelHarness harness = TunnelHarness.builder().mode(TunMode.TAP).packetInfo(true).name("tapfoo").build()) {
            assertEquals("tapfoo", harness.channel().localAddress().name());
            assertEquals("tapfoo", harness.tunnel().requestedName());
            assertEquals(TunIoctl.IFF_TAP, harness.tunnel().tunnelMode());
        }
    }

    @Test
    void emptyNameAsksForTheModesTemplate() {
        try (TunnelHarness harness = TunnelHarness.builder().mode(TunMode.TAP).build()) {
            assertEquals("tap0", harness.channel().localAddress().name());
        }
    }

    @Test
    void openWithoutPermissionFailsTheBindSayingWhatIsNeeded() {
        MemoryIoSystem system = new MemoryIoSystem();
        system.permissions().remove(MemoryIoSystem.OPEN_PERMISSION);
        TunBindException failure = assertThrows(TunBindException.class,
                () -> TunnelHarness.builder().ioSystem(system).build());
        assertEquals(Errno.EPERM, failure.errno());
        assertTrue(failure.getMessage().contains("CAP_NET_ADMIN"), failure.getMessage());
        assertTrue(failure.getMessage().contains("EPERM"), failure.getMessage());
        assertTrue(system.tunnels().isEmpty());
    }

    @Test
    void configureFailureClosesTheOpenedFd() {
        MemoryIoSystem system = new MemoryIoSystem();
        system.permissions().remove(MemoryIoSystem.IOCTL_PERMISSION);
        TunBindException failure = assertThrows(TunBindException.class,
                () -> TunnelHarness.builder().ioSystem(system).build());
        assertEquals(Errno.EPERM, failure.errno());
        assertInstanceOf(ErrnoException.class, failure.getCause());
        assertFalse(system.isOpen(MemoryIoSystem.FIRST_FD), "the fd opened before TUNSETIFF failed is closed");
        assertTrue(system.tunnels().isEmpty());
    }

    @Test
    void anIoctlTheSystemRejectsFailsTheBindAndClosesTheFd() {
        // The in-memory system, like Twisted's, knows only TUNSETIFF: PERSIST is refused (EINVAL).
        MemoryIoSystem system = new MemoryIoSystem();
        TunBindException failure = assertThrows(TunBindException.class,
                () -> TunnelHarness.builder().ioSystem(system).option(TunChannelOption.PERSIST, true).build());
        assertEquals(Errno.EINVAL, failure.errno());
        assertTrue(failure.getMessage().contains("TUNSETPERSIST"), failure.getMessage());
        assertFalse(system.isOpen(MemoryIoSystem.FIRST_FD));
    }

    @Test
    void namesOfSixteenBytesOrMoreAreRejectedBeforeAnythingIsOpened() {
        assertThrows(IllegalArgumentException.class, () -> new TunAddress("sixteen-bytes-xx"));
        assertEquals("fifteen-bytes-x", new TunAddress("fifteen-bytes-x").name());
    }

    @Test
    void bindingToSomethingOtherThanATunAddressFails() {
        MemoryIoSystem system = new MemoryIoSystem();
        try (TunnelHarness harness = TunnelHarness.builder().ioSystem(system).build()) {
            TunChannel other = new TunChannel(system);
            harness.channel().eventLoop().register(other);
            harness.runPendingTasks();
            ChannelFuture bound = other.bind(new java.net.InetSocketAddress(0));
            harness.runPendingTasks();
            assertInstanceOf(IllegalArgumentException.class, bound.cause());
            assertEquals(1, system.tunnels().size(), "no second device opened");
            other.close();
            harness.runPendingTasks();
        }
    }

    @Test
    void deviceOptionsCannotChangeAfterBind() {
        try (TunnelHarness harness = TunnelHarness.of()) {
            assertThrows(IllegalStateException.class, () -> harness.channel().config().setMode(TunMode.TAP));
            assertEquals(TunMode.TUN, harness.channel().config().getOption(TunChannelOption.MODE));
            assertTrue(harness.channel().config().getOptions().containsKey(TunChannelOption.MAX_PACKET_SIZE));
        }
    }

    // ---- reading ----

    @Test
    void eachPacketIsOneInboundBuffer() {
        Recorder recorder = new Recorder();
        try (TunnelHarness harness = TunnelHarness.of(recorder)) {
            byte[] first = Packets.ipv4Like(40, 1);
            byte[] second = Packets.ipv4Like(1500, 2);
            harness.tunnel().addToReadBuffer(first);
            harness.tunnel().addToReadBuffer(second);
            harness.runPendingTasks();
            assertEquals(2, recorder.packets.size());
            assertArrayEquals(first, recorder.packets.get(0));
            assertArrayEquals(second, recorder.packets.get(1));
            assertTrue(recorder.exceptions.isEmpty());
        }
    }

    @Test
    void withPacketInformationEachPacketCarriesTheKernelsHeader() {
        Recorder recorder = new Recorder();
        try (TunnelHarness harness = TunnelHarness.builder().packetInfo(true).handlers(recorder).build()) {
            byte[] packet = Packets.ipv4Like(30, 7);
            harness.writeToTunnel(packet);
            byte[] read = recorder.packets.get(0);
            assertEquals(34, read.length);
            assertEquals(0, read[0] | read[1], "flags: not truncated");
            assertEquals(0x08, read[2]);
            assertEquals(0x00, read[3]);
        }
    }

    @Test
    void packetsLongerThanTheMaximumAreTruncatedAsTheKernelWould() {
        Recorder recorder = new Recorder();
        try (TunnelHarness harness = TunnelHarness.builder().packetInfo(true)
                .option(TunChannelOption.MAX_PACKET_SIZE, 104).handlers(recorder).build()) {
            harness.writeToTunnel(Packets.ipv4Like(200, 3));
            byte[] read = recorder.packets.get(0);
            assertEquals(104, read.length, "the limit counts the PI header");
            int flags = java.nio.ByteBuffer.wrap(read, 0, 2).order(java.nio.ByteOrder.nativeOrder()).getShort();
            assertEquals(TunIoctl.TUN_PKT_STRIP, flags);
            assertArrayEquals(java.util.Arrays.copyOf(Packets.ipv4Like(200, 3), 100),
                    java.util.Arrays.copyOfRange(read, 4, 104));
        }
    }

    @Test
    void theReadBudgetBoundsPacketsPerReadinessEvent() {
        Recorder recorder = new Recorder();
        try (TunnelHarness harness = TunnelHarness.builder().option(TunChannelOption.READ_BUDGET, 3)
                .handlers(recorder).build()) {
            for (int i = 0; i < 10; i++) {
                harness.tunnel().addToReadBuffer(Packets.ipv4Like(20, i));
            }
            harness.runPendingTasks();
            assertEquals(10, recorder.packets.size());
            assertEquals(4, recorder.readCompletes, "3 + 3 + 3 + 1 packets");
            for (int i = 0; i < 10; i++) {
                assertArrayEquals(Packets.ipv4Like(20, i), recorder.packets.get(i), "in order");
            }
        }
    }

    @Test
    void withAutoReadOffPacketsWaitForReadAndEachReadTakesOne() {
        Recorder recorder = new Recorder();
        try (TunnelHarness harness = TunnelHarness.builder().option(ChannelOption.AUTO_READ, false)
                .handlers(recorder).build()) {
            harness.tunnel().addToReadBuffer(Packets.ipv4Like(20, 1));
            harness.tunnel().addToReadBuffer(Packets.ipv4Like(20, 2));
            harness.runPendingTasks();
            assertTrue(recorder.packets.isEmpty(), "nothing read before read()");
            harness.channel().read();
            harness.runPendingTasks();
            assertEquals(1, recorder.packets.size());
            harness.runPendingTasks();
            assertEquals(1, recorder.packets.size(), "interest dropped: no further reads, no spinning");
            harness.channel().read();
            harness.runPendingTasks();
            assertEquals(2, recorder.packets.size());
            assertEquals(0, harness.tunnel().readBufferSize());
        }
    }

    @Test
    void wouldBlockAndInterruptedEndTheReadLoopQuietly() {
        for (int errno : new int[] {Errno.EAGAIN, Errno.EWOULDBLOCK, Errno.EINTR}) {
            Recorder recorder = new Recorder();
            try (TunnelHarness harness = TunnelHarness.of(recorder)) {
                harness.tunnel().setEmptyReadError(errno);
                harness.writeToTunnel(Packets.ipv4Like(20, 1));
                assertEquals(1, recorder.packets.size());
                assertTrue(recorder.exceptions.isEmpty(), Errno.name(errno));
                assertTrue(harness.channel().isOpen(), Errno.name(errno));
            }
        }
    }

    @Test
    void anyOtherReadErrorIsReportedAndClosesTheChannel() {
        Recorder recorder = new Recorder();
        TunnelHarness harness = TunnelHarness.of(recorder);
        RuntimeException boom = new RuntimeException("device on fire");
        harness.tunnel().setEmptyReadError(() -> boom);
        harness.writeToTunnel(Packets.ipv4Like(20, 1));
        assertEquals(1, recorder.packets.size(), "the packet before the error is delivered");
        assertEquals(List.of(boom), recorder.exceptions);
        assertFalse(harness.channel().isOpen());
        assertFalse(harness.ioSystem().isOpen(MemoryIoSystem.FIRST_FD), "fd closed");
        harness.finish();
    }

    @Test
    void anErrnoReadErrorOtherThanFlowControlClosesTheChannel() {
        Recorder recorder = new Recorder();
        TunnelHarness harness = TunnelHarness.of(recorder);
        harness.tunnel().setEmptyReadError(Errno.EBADFD);
        harness.writeToTunnel(Packets.ipv4Like(20, 1));
        assertEquals(1, recorder.exceptions.size());
        assertEquals(Errno.EBADFD, ((ErrnoException) recorder.exceptions.get(0)).errno());
        assertFalse(harness.channel().isOpen());
        harness.finish();
    }

    @Test
    void aHandlerThatThrowsDoesNotStopReading() {
        Recorder recorder = new Recorder();
        ChannelInboundHandlerAdapter thrower = new ChannelInboundHandlerAdapter() {
            int seen;

            @Override
            public void channelRead(ChannelHandlerContext ctx, Object msg) {
                if (seen++ == 0) {
                    ((ByteBuf) msg).release();
                    throw new IllegalStateException("handler bug");
                }
                ctx.fireChannelRead(msg);
            }
        };
        try (TunnelHarness harness = TunnelHarness.of(thrower, recorder)) {
            for (int i = 0; i < 3; i++) {
                harness.tunnel().addToReadBuffer(Packets.ipv4Like(20, i));
            }
            harness.runPendingTasks();
            assertEquals(2, recorder.packets.size(), "the packets after the failing one are read");
            assertEquals(1, recorder.exceptions.size());
            assertEquals("handler bug", recorder.exceptions.get(0).getMessage());
            assertTrue(harness.channel().isOpen());
        }
    }

    @Test
    void closingDuringAReadStopsReading() {
        Recorder recorder = new Recorder();
        ChannelInboundHandlerAdapter closer = new ChannelInboundHandlerAdapter() {
            @Override
            public void channelRead(ChannelHandlerContext ctx, Object msg) {
                ctx.fireChannelRead(msg);
                ctx.close();
            }
        };
        TunnelHarness harness = TunnelHarness.of(closer, recorder);
        for (int i = 0; i < 3; i++) {
            harness.tunnel().addToReadBuffer(Packets.ipv4Like(20, i));
        }
        harness.runPendingTasks();
        assertEquals(1, recorder.packets.size());
        assertTrue(recorder.exceptions.isEmpty(), "no read of a closed fd: " + recorder.exceptions);
        assertFalse(harness.channel().isOpen());
        harness.finish();
    }

    // ---- writing ----

    @Test
    void eachBufferIsWrittenAsOnePacket() {
        try (TunnelHarness harness = TunnelHarness.of()) {
            byte[] packet = Packets.ipv4Like("hello");
            ChannelFuture written = harness.channel().writeAndFlush(Unpooled.wrappedBuffer(packet));
            harness.runPendingTasks();
            assertTrue(written.isSuccess());
            assertArrayEquals(packet, harness.readFromTunnel());
            assertNull(harness.readFromTunnel());
        }
    }

    @Test
    void anythingButAByteBufIsRejectedAndReleased() {
        try (TunnelHarness harness = TunnelHarness.of()) {
            ReferenceCounted message = new AbstractReferenceCounted() {
                @Override
                protected void deallocate() {
                }

                @Override
                public ReferenceCounted touch(Object hint) {
                    return this;
                }
            };
            ChannelFuture written = harness.channel().writeAndFlush(message);
            harness.runPendingTasks();
            assertInstanceOf(UnsupportedOperationException.class, written.cause());
            assertTrue(written.cause().getMessage().contains("ByteBuf"));
            assertEquals(0, message.refCnt());
            assertTrue(harness.channel().isOpen());
        }
    }

    @Test
    void anInterruptedWriteIsRetried() {
        try (TunnelHarness harness = TunnelHarness.of()) {
            harness.tunnel().setPendingSignals(2);
            ChannelFuture written = harness.channel().writeAndFlush(Unpooled.wrappedBuffer(Packets.ipv4Like("x")));
            harness.runPendingTasks();
            assertTrue(written.isSuccess());
            assertEquals(0, harness.tunnel().pendingSignals());
            assertArrayEquals(Packets.ipv4Like("x"), harness.readFromTunnel());
        }
    }

    @Test
    void aFailedWriteFailsItsPromiseOnlyAndTheChannelGoesOn() {
        try (TunnelHarness harness = TunnelHarness.of()) {
            harness.tunnel().setSendBufferSize(100);
            ChannelFuture tooBig = harness.channel().write(Unpooled.wrappedBuffer(Packets.ipv4Like(101, 0)));
            ChannelFuture fits = harness.channel().writeAndFlush(Unpooled.wrappedBuffer(Packets.ipv4Like(100, 0)));
            harness.runPendingTasks();
            assertEquals(Errno.ENOBUFS, ((ErrnoException) tooBig.cause()).errno());
            assertTrue(fits.isSuccess());
            assertArrayEquals(Packets.ipv4Like(100, 0), harness.readFromTunnel());
            assertTrue(harness.channel().isOpen());
        }
    }

    @Test
    void aFullDeviceHoldsPacketsUntilItHasRoomWithoutLosingAny() {
        List<Boolean> writabilityChanges = new ArrayList<>();
        ChannelInboundHandlerAdapter watcher = new ChannelInboundHandlerAdapter() {
            @Override
            public void channelWritabilityChanged(ChannelHandlerContext ctx) {
                writabilityChanges.add(ctx.channel().isWritable());
            }
        };
        try (TunnelHarness harness = TunnelHarness.builder()
                .option(ChannelOption.WRITE_BUFFER_WATER_MARK, new WriteBufferWaterMark(50, 100))
                .handlers(watcher).build()) {
            harness.tunnel().setWriteCapacity(2);
            List<ChannelFuture> writes = new ArrayList<>();
            for (int i = 0; i < 5; i++) {
                writes.add(harness.channel().write(Unpooled.wrappedBuffer(Packets.ipv4Like(40, i))));
            }
            harness.channel().flush();
            harness.runPendingTasks();
            assertEquals(2, harness.tunnel().writeBufferSize(), "the device took what it had room for");
            assertFalse(writes.get(2).isDone(), "the third packet waits, it is not lost or failed");
            assertFalse(harness.channel().isWritable(), "120 bytes queued is above the high water mark");
            assertEquals(List.of(false), writabilityChanges);

            List<byte[]> delivered = new ArrayList<>();
            byte[] packet;
            while ((packet = harness.readFromTunnel()) != null) {
                delivered.add(packet);
            }
            assertEquals(5, delivered.size());
            for (int i = 0; i < 5; i++) {
                assertArrayEquals(Packets.ipv4Like(40, i), delivered.get(i), "in order");
                assertTrue(writes.get(i).isSuccess());
            }
            assertTrue(harness.channel().isWritable());
            assertEquals(List.of(false, true), writabilityChanges);
        }
    }

    @Test
    void aWriteThatFindsTheDeviceGoneClosesTheChannel() throws Exception {
        Recorder recorder = new Recorder();
        TunnelHarness harness = TunnelHarness.builder().option(ChannelOption.AUTO_READ, false)
                .handlers(recorder).build();
        int fd = harness.channel().fd();
        harness.ioSystem().close(fd); // the fd goes away under the channel; no read is pending to notice
        ChannelFuture write = harness.channel().writeAndFlush(Unpooled.wrappedBuffer(Packets.ipv4Like(20, 0)));
        harness.runPendingTasks();
        assertEquals(Errno.EBADF, ((ErrnoException) write.cause()).errno());
        assertEquals(1, recorder.exceptions.size(), "reported once");
        assertFalse(harness.channel().isOpen(), "no point writing to a dead fd again");
        harness.finish();
    }

    // ---- closing ----

    @Test
    void closeClosesTheFdOnceAndFailsAndReleasesQueuedWrites() {
        MemoryIoSystem system = new MemoryIoSystem();
        TunnelHarness harness = TunnelHarness.builder().ioSystem(system).build();
        harness.tunnel().setWriteCapacity(0);
        ByteBuf queued = Unpooled.wrappedBuffer(Packets.ipv4Like(20, 0));
        ChannelFuture write = harness.channel().writeAndFlush(queued);
        harness.runPendingTasks();
        assertFalse(write.isDone());

        ChannelFuture closed = harness.channel().close();
        harness.runPendingTasks();
        assertTrue(closed.isSuccess());
        assertInstanceOf(ClosedChannelException.class, write.cause());
        assertEquals(0, queued.refCnt(), "queued packet released");
        assertFalse(system.isOpen(MemoryIoSystem.FIRST_FD));
        assertTrue(harness.tunnel().isClosed());
        assertEquals(-1, harness.channel().fd());

        ChannelFuture again = harness.channel().close();
        harness.runPendingTasks();
        assertTrue(again.isSuccess(), "closing twice is harmless");
        harness.finish();
    }

    @Test
    void closeStopsReading() {
        Recorder recorder = new Recorder();
        TunnelHarness harness = TunnelHarness.of(recorder);
        harness.channel().close();
        harness.runPendingTasks();
        assertThrows(IllegalStateException.class, () -> harness.tunnel().addToReadBuffer(Packets.ipv4Like(20, 0)),
                "the tunnel is gone with its fd");
        assertTrue(recorder.packets.isEmpty());
        harness.finish();
    }

    // ---- the harness itself ----

    @Test
    void unconsumedInboundMessagesReachTheHarnessAndFinishReportsLeftovers() {
        TunnelHarness harness = TunnelHarness.of();
        harness.writeToTunnel(Packets.ipv4Like("left"));
        ByteBuf packet = harness.readInbound();
        assertNotNull(packet);
        assertArrayEquals(Packets.ipv4Like("left"), ByteBufUtil.getBytes(packet));
        packet.release();
        harness.writeToTunnel(Packets.ipv4Like("over"));
        assertTrue(harness.finish(), "an unread message is a leftover (and released by finish)");
    }

    @Test
    void finishFailsWhenAHandlerLeaksAPacket() {
        List<ByteBuf> kept = new ArrayList<>();
        ChannelInboundHandlerAdapter leaker = new ChannelInboundHandlerAdapter() {
            @Override
            public void channelRead(ChannelHandlerContext ctx, Object msg) {
                kept.add((ByteBuf) msg); // neither released nor passed on
            }
        };
        TunnelHarness harness = TunnelHarness.of(leaker);
        harness.writeToTunnel(Packets.ipv4Like(20, 0));
        AssertionError leak = assertThrows(AssertionError.class, harness::finish);
        assertTrue(leak.getMessage().contains("never released"), leak.getMessage());
        kept.forEach(ByteBuf::release); // keep the JVM-wide leak detector quiet
    }

    @Test
    void exceptionsReachingTheEndOfThePipelineAreRethrownByCheckException() {
        ChannelInboundHandlerAdapter thrower = new ChannelInboundHandlerAdapter() {
            @Override
            public void channelRead(ChannelHandlerContext ctx, Object msg) {
                ((ByteBuf) msg).release();
                throw new IllegalArgumentException("bad packet");
            }
        };
        try (TunnelHarness harness = TunnelHarness.of(thrower)) {
            harness.writeToTunnel(Packets.ipv4Like(20, 0));
            IllegalArgumentException thrown = assertThrows(IllegalArgumentException.class, harness::checkException);
            assertEquals("bad packet", thrown.getMessage());
            harness.checkException(); // cleared
        }
    }

    @Test
    void tapModeDeliversEthernetFramedPackets() throws Exception {
        Recorder recorder = new Recorder();
        try (TunnelHarness harness = TunnelHarness.builder().mode(TunMode.TAP).handlers(recorder).build()) {
            byte[] datagram = Packets.ipv4Like(28, 0);
            // The network knows the program's MAC (else it would ARP for it first).
            harness.tunnel().addProgramNeighbour(java.net.InetAddress.getByAddress(java.util.Arrays.copyOfRange(datagram, 16, 20)),
                    org.tuntap.codec.ethernet.MacAddress.of(0x020000000002L));
            harness.writeToTunnel(datagram);
            byte[] frame = recorder.packets.get(0);
            assertEquals(14 + 28, frame.length);
            assertEquals(0x02, frame[0], "to the program's MAC");
            assertEquals(0x02, frame[5]);
            assertEquals(0x08, frame[12]);
            assertEquals(0x00, frame[13]);
        }
    }
}
