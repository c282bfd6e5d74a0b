package org.tuntap.testkit.channel;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import org.junit.jupiter.api.Test;
import org.tuntap.testkit.TunnelHarness;
import org.tuntap.transport.TunChannelCounters;
import org.tuntap.transport.spi.Errno;

import java.util.Map;
import java.util.concurrent.CompletableFuture;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@link TunChannelCounters}: what the transport counts, driven through the in-memory tunnel. */
class TunChannelCountersTest {

    /** Releases what it reads: only the transport's counting is under test. */
    private static final class Sink extends ChannelInboundHandlerAdapter {
        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            ((ByteBuf) msg).release();
        }
    }

    private static ByteBuf packet(TunnelHarness harness, byte[] bytes) {
        return harness.channel().alloc().directBuffer(bytes.length).writeBytes(bytes);
    }

    @Test
    void countsPacketsAndBytesReadAndWritten() {
        TunnelHarness harness = TunnelHarness.of(new Sink());
        TunChannelCounters counters = harness.channel().counters();
        harness.writeToTunnel(Packets.ipv4Like(100, 1)).writeToTunnel(Packets.ipv4Like(40, 2))
                .writeToTunnel(Packets.ipv4Like(1500, 3));
        assertEquals(3, counters.packetsRead());
        assertEquals(1640, counters.bytesRead());

        harness.writeOutbound(packet(harness, Packets.ipv4Like(60, 4)), packet(harness, Packets.ipv4Like(28, 5)));
        assertEquals(2, counters.packetsWritten());
        assertEquals(88, counters.bytesWritten());
        assertEquals(0, counters.readErrors() + counters.writeErrors() + counters.writesDropped() + counters.writePushbacks());
        assertTrue(harness.finish(), "the two written packets were left in the device");
    }

    @Test
    void countsTheDevicePushingBackAndTheWriteGoingOnLater() {
        TunnelHarness harness = TunnelHarness.of(new Sink());
        TunChannelCounters counters = harness.channel().counters();
        harness.tunnel().setWriteCapacity(1);
        harness.writeOutbound(packet(harness, Packets.ipv4Like(60, 1)), packet(harness, Packets.ipv4Like(60, 2)));
        assertEquals(1, counters.packetsWritten());
        assertEquals(1, counters.writePushbacks(), "the full device said EAGAIN once; the channel then waits");

        assertNotNull(harness.readFromTunnel()); // room again: the waiting packet goes
        assertEquals(2, counters.packetsWritten());
        assertEquals(1, counters.writePushbacks());
        assertEquals(0, counters.writesDropped());
        assertNotNull(harness.readFromTunnel());
        assertFalse(harness.finish());
    }

    @Test
    void countsRefusedWritesByErrnoAsDrops() {
        TunnelHarness harness = TunnelHarness.of(new Sink());
        TunChannelCounters counters = harness.channel().counters();
        // A TUN device without PI takes only IPv4/IPv6: the kernel refuses this with EINVAL.
        ByteBuf notIp = harness.channel().alloc().directBuffer().writeBytes(new byte[] {0x00, 0x01, 0x02});
        ChannelFuture write = harness.channel().writeAndFlush(notIp);
        harness.runPendingTasks();
        assertFalse(write.isSuccess());
        assertEquals(1, counters.writeErrors(Errno.EINVAL));
        assertEquals(1, counters.writeErrors());
        assertEquals(1, counters.writesDropped());
        assertEquals(Map.of("EINVAL", 1L), counters.writeErrorsByErrno());
        assertEquals(0, counters.packetsWritten());
        assertTrue(harness.channel().isActive(), "EINVAL drops the packet, not the channel");
        harness.checkException(); // the failed write failed its promise, nothing else
        assertFalse(harness.finish());
    }

    @Test
    void countsAReadErrorByErrnoBeforeTheChannelCloses() {
        TunnelHarness harness = TunnelHarness.of(new Sink());
        TunChannelCounters counters = harness.channel().counters();
        harness.tunnel().failNextRead(Errno.EBADFD);
        harness.runPendingTasks();
        assertFalse(harness.channel().isOpen());
        assertEquals(1, counters.readErrors(Errno.EBADFD));
        assertEquals(Map.of("EBADFD", 1L), counters.readErrorsByErrno());
        assertEquals(0, counters.packetsRead());
        assertEquals(1, harness.exceptions().size(), "the channel fired the read error");
        assertFalse(harness.finish());
    }

    @Test
    void countersAreReadableFromAnotherThread() throws Exception {
        TunnelHarness harness = TunnelHarness.of(new Sink());
        harness.writeToTunnel(Packets.ipv4Like(64, 1));
        CompletableFuture<Long> seen = CompletableFuture.supplyAsync(() -> harness.channel().counters().bytesRead());
        assertEquals(64L, seen.get());
        assertFalse(harness.finish());
    }
}
