package org.tuntap.testkit.vnet;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.socket.DatagramPacket;
import org.junit.jupiter.api.Test;
import org.tuntap.codec.arp.ArpHandler;
import org.tuntap.codec.arp.ArpPacket;
import org.tuntap.codec.checksum.ChecksumPolicy;
import org.tuntap.codec.EtherType;
import org.tuntap.codec.ethernet.EthernetCodec;
import org.tuntap.codec.ethernet.EthernetHeader;
import org.tuntap.codec.ethernet.MacAddress;
import org.tuntap.codec.ipv4.Ipv4Codec;
import org.tuntap.codec.ipv6.Ipv6Codec;
import org.tuntap.codec.udp.UdpCodec;
import org.tuntap.codec.vnet.CoalescingHandler;
import org.tuntap.codec.vnet.GsoOffload;
import org.tuntap.codec.vnet.VirtioNetHeader;
import org.tuntap.codec.vnet.VnetHeaderEncoder;
import org.tuntap.codec.vnet.VnetSegmentationHandler;
import org.tuntap.testkit.TunnelHarness;
import org.tuntap.transport.TunChannelOption;
import org.tuntap.transport.TunMode;
import org.tuntap.transport.TunOffload;

import java.net.InetSocketAddress;
import java.nio.channels.ClosedChannelException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumSet;
import java.util.HexFormat;
import java.util.List;
import java.util.function.Supplier;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * The fused path writing into the coalescer's open super-packet (CoalescingHandler as the fused
 * stack's FusedWriteMerger): datagrams of one flow become one USO write as they are written,
 * and what the network receives is byte for byte what the same pipeline sends unmerged
 * (VnetHeaderEncoder in the coalescer's place), identifications and checksums included.
 */
class FusedMergingTest {
    private static final InetSocketAddress LOCAL4 = new InetSocketAddress("198.51.100.2", 4789);
    private static final InetSocketAddress LOCAL6 = new InetSocketAddress("2001:db8::2", 4789);
    private static final InetSocketAddress PEER4 = new InetSocketAddress("192.0.2.1", 21345);
    private static final InetSocketAddress OTHER_PEER4 = new InetSocketAddress("192.0.2.1", 21346);
    private static final InetSocketAddress PEER6 = new InetSocketAddress("2001:db8::1", 21345);
    private static final MacAddress APP_MAC = MacAddress.parse("02:00:00:00:00:02");

    /** Echoes every datagram (its content retained, no copy) and flushes once per read batch. */
    private static final class Echo extends SimpleChannelInboundHandler<DatagramPacket> {
        final List<ChannelFuture> writes = new ArrayList<>();

        @Override
        protected void channelRead0(ChannelHandlerContext ctx, DatagramPacket packet) {
            writes.add(ctx.write(new DatagramPacket(packet.content().retain(), packet.sender(), packet.recipient())));
        }

        @Override
        public void channelReadComplete(ChannelHandlerContext ctx) {
            ctx.flush();
        }
    }

    private static TunnelHarness harness(ChannelHandler bottom, UdpCodec udp, ChannelHandler app) {
        TunnelHarness harness = TunnelHarness.builder()
                .option(TunChannelOption.VNET_HDR, true)
                .option(TunChannelOption.OFFLOADS, EnumSet.allOf(TunOffload.class))
                .option(TunChannelOption.READ_BUDGET, 64)
                .handlers(new VnetSegmentationHandler(), bottom, new Ipv6Codec(), new Ipv4Codec(), udp, app)
                .build();
        if (bottom instanceof CoalescingHandler coalescer) {
            coalescer.setOffloads(GsoOffload.fromNames(harness.channel().config().getAppliedOffloads()));
        }
        return harness;
    }

    /** The same on a TAP device: Ethernet and ARP between the coalescer (or encoder) and the IP layers. */
    private static TunnelHarness tapHarness(ChannelHandler bottom, Echo app) {
        TunnelHarness harness = TunnelHarness.builder()
                .mode(TunMode.TAP)
                .option(TunChannelOption.VNET_HDR, true)
                .option(TunChannelOption.OFFLOADS, EnumSet.allOf(TunOffload.class))
                .option(TunChannelOption.READ_BUDGET, 64)
                .handlers(VnetSegmentationHandler.forEthernet(), bottom, new EthernetCodec(),
                        new ArpHandler(APP_MAC, List.of(LOCAL4.getAddress())), new Ipv4Codec(), udp(), app)
                .build();
        if (bottom instanceof CoalescingHandler coalescer) {
            coalescer.setOffloads(GsoOffload.fromNames(harness.channel().config().getAppliedOffloads()));
        }
        // One datagram first: the network resolves the program by ARP, and the program learns the
        // network's MAC from the request, so the batch after it is echoed on the fused path.
        readBatch(harness, 1, 10);
        List<byte[]> first = harness.tunnel().takeAllDelivered();
        assertEquals(2, first.size(), "the ARP reply and the echo");
        return harness;
    }

    private static UdpCodec udp() {
        return new UdpCodec(LOCAL4).setDefaultLocalAddress(LOCAL6);
    }

    /** {@code count} datagrams from PEER4 to LOCAL4 of {@code size} bytes each, in one read batch. */
    private static void readBatch(TunnelHarness harness, int count, int size) {
        for (int i = 0; i < count; i++) {
            harness.tunnel().addToReadBuffer(FlowPackets.udp4(FlowPackets.ip4(i), PEER4.getPort(), FlowPackets.payload(size, i)));
        }
        harness.runPendingTasks();
    }

    /** Asserts the two lists of packets are the same, naming the first that differs. */
    private static void assertSamePackets(List<byte[]> expected, List<byte[]> actual, String what) {
        assertEquals(expected.size(), actual.size(), what + ": packets");
        for (int i = 0; i < expected.size(); i++) {
            if (!Arrays.equals(expected.get(i), actual.get(i))) {
                fail(what + ": packet " + i + " differs\n expected " + HexFormat.of().formatHex(expected.get(i), 0, 48)
                        + "...\n actual   " + HexFormat.of().formatHex(actual.get(i), 0, Math.min(48, actual.get(i).length)) + "...");
            }
        }
    }

    @Test
    void anEchoedReadBatchLeavesInSuperPacketsAndArrivesAsTheUnmergedEchoWould() {
        // 64 B: 50 datagrams fit one super-packet; 1400 B: 45 fit in 64 KiB, so two.
        for (int[] sizeAndWrites : new int[][] {{64, 1}, {1400, 2}}) {
            int size = sizeAndWrites[0];
            List<byte[]> unmerged;
            try (TunnelHarness reference = harness(new VnetHeaderEncoder(), udp(), new Echo())) {
                readBatch(reference, 50, size);
                assertEquals(50, reference.tunnel().writeBufferSize(), "one write per echo without the coalescer");
                unmerged = reference.tunnel().takeAllDelivered();
                assertFalse(reference.finish());
            }
            Echo echo = new Echo();
            try (TunnelHarness harness = harness(new CoalescingHandler(EnumSet.noneOf(GsoOffload.class)), udp(), echo)) {
                readBatch(harness, 50, size);
                assertEquals(sizeAndWrites[1], harness.tunnel().writeBufferSize(), size + " B: USO writes");
                assertEquals(VirtioNetHeader.GSO_UDP_L4, harness.tunnel().writeBuffer().get(0)[1]);
                assertSamePackets(unmerged, harness.tunnel().takeAllDelivered(), size + " B: what the network receives");
                assertEquals(50, echo.writes.size());
                for (ChannelFuture write : echo.writes) {
                    assertTrue(write.isSuccess(), "every merged datagram's promise completes with its super-packet");
                }
                assertFalse(harness.finish());
            }
        }
    }

    @Test
    void onTapTheEchoedBatchLeavesInSuperPacketsBehindOneEthernetHeaderAndArrivesAsTheUnmergedEchoWould() {
        for (int[] sizeAndWrites : new int[][] {{64, 1}, {1400, 2}}) {
            int size = sizeAndWrites[0];
            List<byte[]> unmerged;
            try (TunnelHarness reference = tapHarness(new VnetHeaderEncoder(), new Echo())) {
                readBatch(reference, 50, size);
                assertEquals(50, reference.tunnel().writeBufferSize(), "one write per echo without the coalescer");
                unmerged = reference.tunnel().takeAllDelivered();
                assertFalse(reference.finish());
            }
            Echo echo = new Echo();
            try (TunnelHarness harness = tapHarness(CoalescingHandler.forEthernet(EnumSet.noneOf(GsoOffload.class)), echo)) {
                readBatch(harness, 50, size);
                assertEquals(sizeAndWrites[1], harness.tunnel().writeBufferSize(), size + " B: USO writes");
                byte[] first = harness.tunnel().writeBuffer().get(0);
                assertEquals(VirtioNetHeader.GSO_UDP_L4, first[1]);
                assertEquals(14 + 20 + 8, (first[2] & 0xFF) | (first[3] & 0xFF) << 8, "hdr_len counts the Ethernet header");
                assertSamePackets(unmerged, harness.tunnel().takeAllDelivered(), size + " B: the frames the network receives");
                for (ChannelFuture write : echo.writes) {
                    assertTrue(write.isSuccess());
                }
                assertFalse(harness.finish());
            }
        }
    }

    @Test
    void onTapAFrameWrittenPastTheFusedPathIsNotHeldAndKeepsItsPlace() {
        try (TunnelHarness harness = tapHarness(CoalescingHandler.forEthernet(EnumSet.noneOf(GsoOffload.class)), new Echo())) {
            // Nothing flushed in between: the ARP frame comes from below the IP layers, as ArpHandler's own do.
            harness.channel().write(datagram(PEER4, 200, 1));
            harness.channel().write(datagram(PEER4, 200, 2));
            harness.channel().pipeline().context(EthernetCodec.class).write(arpRequest());
            harness.channel().write(datagram(PEER4, 200, 3));
            harness.channel().write(datagram(PEER4, 200, 4));
            harness.channel().flush();
            harness.runPendingTasks();
            assertEquals(3, harness.tunnel().writeBufferSize(), "[1, 2] [ARP] [3, 4]");
            List<byte[]> delivered = harness.tunnel().takeAllDelivered();
            assertEquals(5, delivered.size());
            assertEquals(0x0806, (delivered.get(2)[12] & 0xFF) << 8 | delivered.get(2)[13] & 0xFF, "the ARP frame third");
            assertFalse(harness.finish());
        }
    }

    @Test
    void anotherFlowOrAShorterDatagramEndsTheSuperPacketAndTheOrderIsKept() {
        try (TunnelHarness harness = harness(new CoalescingHandler(EnumSet.noneOf(GsoOffload.class)), udp(), new Echo());
             TunnelHarness reference = harness(new VnetHeaderEncoder(), udp(), new Echo())) {
            for (TunnelHarness h : List.of(harness, reference)) {
                h.writeOutbound(datagram(PEER4, 300, 1), datagram(PEER4, 300, 2), datagram(OTHER_PEER4, 300, 3),
                        datagram(PEER4, 300, 4), datagram(PEER4, 100, 5), datagram(PEER4, 300, 6));
            }
            // [1, 2] [3] [4, 5: the shorter one ends it] [6]
            assertEquals(4, harness.tunnel().writeBufferSize());
            assertSamePackets(reference.tunnel().takeAllDelivered(), harness.tunnel().takeAllDelivered(), "in written order");
            assertFalse(harness.finish());
            assertFalse(reference.finish());
        }
    }

    @Test
    void aPacketWrittenPastTheFusedPathLeavesAfterTheMergedOnesBeforeIt() {
        try (TunnelHarness harness = harness(new CoalescingHandler(EnumSet.noneOf(GsoOffload.class)), udp(), new Echo())) {
            // The IPv6 datagram goes through Ipv6Codec's layered path into the coalescer's write().
            harness.writeOutbound(datagram(PEER4, 200, 1), datagram(PEER4, 200, 2), datagram(PEER6, 200, 3),
                    datagram(PEER4, 200, 4));
            List<byte[]> delivered = harness.tunnel().takeAllDelivered();
            assertEquals(4, delivered.size());
            int[] versions = new int[4];
            for (int i = 0; i < 4; i++) {
                versions[i] = (delivered.get(i)[0] & 0xFF) >> 4;
            }
            assertEquals(List.of(4, 4, 6, 4), List.of(versions[0], versions[1], versions[2], versions[3]));
            assertFalse(harness.finish());
        }
    }

    @Test
    void withoutUdpChecksumsOrWithoutUsoNothingMerges() {
        List<Supplier<TunnelHarness>> setups = List.of(
                () -> harness(new CoalescingHandler(EnumSet.noneOf(GsoOffload.class)),
                        udp().setChecksumPolicy(ChecksumPolicy.VERIFY_ONLY), new Echo()),
                () -> {
                    TunnelHarness h = harness(new CoalescingHandler(EnumSet.noneOf(GsoOffload.class)), udp(), new Echo());
                    ((CoalescingHandler) h.channel().pipeline().get(CoalescingHandler.class)).setOffloads(EnumSet.of(GsoOffload.TSO4));
                    return h;
                });
        for (Supplier<TunnelHarness> setup : setups) {
            try (TunnelHarness harness = setup.get()) {
                readBatch(harness, 10, 200);
                assertEquals(10, harness.tunnel().writeBufferSize());
                assertEquals(10, harness.tunnel().takeAllDelivered().size());
                assertFalse(harness.finish());
            }
        }
    }

    @Test
    void aCloseBeforeTheFlushFailsTheOpenSuperPacketsPromisesAndReleasesIt() {
        TunnelHarness harness = harness(new CoalescingHandler(EnumSet.noneOf(GsoOffload.class)), udp(), new Echo());
        List<ChannelFuture> writes = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            writes.add(harness.channel().write(datagram(PEER4, 200, i)));
        }
        harness.channel().close();
        harness.runPendingTasks();
        for (ChannelFuture write : writes) {
            assertInstanceOf(ClosedChannelException.class, write.cause());
        }
        assertEquals(0, harness.tunnel().writeBufferSize());
        assertFalse(harness.finish(), "nothing leaked");
    }

    /** An ARP request from the program for PEER4, framed. */
    private static ByteBuf arpRequest() {
        ByteBuf frame = io.netty.buffer.PooledByteBufAllocator.DEFAULT.heapBuffer();
        EthernetHeader.write(frame, MacAddress.BROADCAST, APP_MAC, EtherType.ARP);
        ArpPacket.write(frame, ArpPacket.REQUEST, APP_MAC.bits(), ipv4(LOCAL4), 0, ipv4(PEER4));
        return frame;
    }

    private static int ipv4(InetSocketAddress address) {
        return java.nio.ByteBuffer.wrap(address.getAddress().getAddress()).getInt();
    }

    private static DatagramPacket datagram(InetSocketAddress to, int size, int seed) {
        ByteBuf content = io.netty.buffer.PooledByteBufAllocator.DEFAULT.heapBuffer(size).writeBytes(FlowPackets.payload(size, seed));
        return new DatagramPacket(content, to);
    }
}
