package org.tuntap.testkit.vnet;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFuture;
import org.junit.jupiter.api.Test;
import org.tuntap.codec.tcp.TcpHeader;
import org.tuntap.codec.vnet.CoalescingHandler;
import org.tuntap.codec.vnet.GsoOffload;
import org.tuntap.codec.vnet.VirtioNetHeader;
import org.tuntap.testkit.MemoryIoSystem;
import org.tuntap.testkit.Tunnel;
import org.tuntap.testkit.TunnelHarness;
import org.tuntap.transport.TunChannelOption;
import org.tuntap.transport.TunOffload;
import org.tuntap.transport.spi.ErrnoException;
import org.tuntap.transport.spi.TunIoctl;

import java.nio.channels.ClosedChannelException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.tuntap.testkit.vnet.FlowPackets.TIMESTAMPS;
import static org.tuntap.testkit.vnet.FlowPackets.ip4;
import static org.tuntap.testkit.vnet.FlowPackets.ip6;
import static org.tuntap.testkit.vnet.FlowPackets.payload;
import static org.tuntap.testkit.vnet.FlowPackets.tcp4;
import static org.tuntap.testkit.vnet.FlowPackets.tcp6;
import static org.tuntap.testkit.vnet.FlowPackets.udp4;
import static org.tuntap.testkit.vnet.FlowPackets.udp6;

/**
 * {@link CoalescingHandler} on a TunChannel with VNET_HDR over the in-memory tunnel, whose
 * "kernel" segments written super-packets as Linux does ({@code Tunnel.takeAllDelivered}): what
 * the network receives is byte for byte what was written, in fewer writes.
 */
class CoalescingHandlerTest {
    private static final int ACK = TcpHeader.ACK;
    private static final int PSH = TcpHeader.ACK | TcpHeader.PSH;
    private static final int MSS = 1448;

    private CoalescingHandler coalescer;

    private TunnelHarness harness(MemoryIoSystem system) {
        coalescer = new CoalescingHandler(Set.of());
        TunnelHarness harness = TunnelHarness.builder().ioSystem(system)
                .option(TunChannelOption.VNET_HDR, true)
                .option(TunChannelOption.OFFLOADS, EnumSet.allOf(TunOffload.class))
                .handlers(coalescer)
                .build();
        // The glue: the offloads the kernel accepted at bind.
        coalescer.setOffloads(GsoOffload.fromNames(harness.channel().config().getAppliedOffloads()));
        return harness;
    }

    private TunnelHarness harness() {
        return harness(new MemoryIoSystem());
    }

    /** Writes every packet (pooled direct buffers, so the leak check sees them), then one flush. */
    private static List<ChannelFuture> writeInOneFlush(TunnelHarness harness, List<byte[]> packets) {
        List<ChannelFuture> futures = new ArrayList<>();
        for (byte[] packet : packets) {
            ByteBuf buf = PooledByteBufAllocator.DEFAULT.directBuffer(packet.length).writeBytes(packet);
            futures.add(harness.channel().write(buf));
        }
        harness.channel().flush();
        harness.runPendingTasks();
        return futures;
    }

    private static void assertPacketsEqual(List<byte[]> expected, List<byte[]> actual) {
        assertEquals(expected.size(), actual.size(), "packets delivered");
        for (int i = 0; i < expected.size(); i++) {
            assertArrayEquals(expected.get(i), actual.get(i), "packet " + i);
        }
    }

    private static List<byte[]> tcpStream4(int segments, int lastLength) {
        List<byte[]> packets = new ArrayList<>();
        long sequence = 1_000_000;
        for (int i = 0; i < segments; i++) {
            boolean last = i == segments - 1;
            byte[] data = payload(last ? lastLength : MSS, i);
            packets.add(tcp4(ip4(100 + i), 40000, sequence, last ? PSH : ACK, TIMESTAMPS, data));
            sequence += data.length;
        }
        return packets;
    }

    @Test
    void aTcpStreamGoesOutAsOneSuperPacketAndArrivesAsWritten() {
        try (TunnelHarness harness = harness()) {
            List<byte[]> packets = tcpStream4(12, 700);
            writeInOneFlush(harness, packets);
            Tunnel tunnel = harness.tunnel();
            List<byte[]> written = tunnel.writeBuffer();
            assertEquals(1, written.size(), "one write for the whole stream");
            ByteBuf header = Unpooled.wrappedBuffer(written.get(0));
            try {
                assertEquals(VirtioNetHeader.GSO_TCPV4, VirtioNetHeader.gsoType(header, 0));
                assertEquals(MSS, VirtioNetHeader.gsoSize(header, 0));
                assertEquals(20 + 32, VirtioNetHeader.hdrLen(header, 0));
                assertEquals(20, VirtioNetHeader.csumStart(header, 0));
                assertEquals(16, VirtioNetHeader.csumOffset(header, 0));
                assertTrue(VirtioNetHeader.needsChecksum(header, 0));
            } finally {
                header.release();
            }
            assertPacketsEqual(packets, tunnel.takeAllDelivered());
            assertEquals(1, harness.channel().counters().packetsWritten());
            assertFalse(harness.finish());
        }
    }

    @Test
    void tcpOverIpv6AndUdpOverBothFamiliesToo() {
        List<byte[]> tcp6 = new ArrayList<>();
        long sequence = 7;
        for (int i = 0; i < 5; i++) {
            byte[] data = payload(i == 4 ? 10 : 1200, i);
            tcp6.add(tcp6(ip6().flowLabel(0x12345), 40001, sequence, i == 4 ? PSH : ACK, new byte[0], data));
            sequence += data.length;
        }
        List<byte[]> udp4 = new ArrayList<>();
        List<byte[]> udp6 = new ArrayList<>();
        for (int i = 0; i < 9; i++) {
            udp4.add(udp4(ip4(7 + i), 5000, payload(i == 8 ? 1 : 1400, i)));
            udp6.add(udp6(ip6(), 5001, payload(1300, i)));
        }
        for (List<byte[]> packets : List.of(tcp6, udp4, udp6)) {
            try (TunnelHarness harness = harness()) {
                writeInOneFlush(harness, packets);
                assertEquals(1, harness.tunnel().writeBufferSize());
                assertPacketsEqual(packets, harness.tunnel().takeAllDelivered());
                assertFalse(harness.finish());
            }
        }
    }

    @Test
    void interleavedFlowsEachBecomeOneSuperPacketInTheOrderTheyStarted() {
        byte[] a1 = udp4(ip4(1), 1111, payload(1000, 1));
        byte[] b1 = udp4(ip4(50), 2222, payload(800, 2));
        byte[] a2 = udp4(ip4(2), 1111, payload(1000, 3));
        byte[] c1 = tcp4(ip4(90), 3333, 5, ACK, new byte[0], payload(500, 4));
        byte[] b2 = udp4(ip4(51), 2222, payload(800, 5));
        byte[] a3 = udp4(ip4(3), 1111, payload(999, 6));
        byte[] c2 = tcp4(ip4(91), 3333, 505, PSH, new byte[0], payload(500, 7));
        try (TunnelHarness harness = harness()) {
            writeInOneFlush(harness, List.of(a1, b1, a2, c1, b2, a3, c2));
            assertEquals(3, harness.tunnel().writeBufferSize(), "one super-packet per flow");
            assertPacketsEqual(List.of(a1, a2, a3, b1, b2, c1, c2), harness.tunnel().takeAllDelivered());
            assertFalse(harness.finish());
        }
    }

    @Test
    void whatCannotBeMergedGoesOutAsItIsAndKeepsItsPlaceInItsFlow() {
        byte[] s1 = tcp4(ip4(1), 4000, 100, ACK, new byte[0], payload(1000, 1));
        byte[] s2 = tcp4(ip4(2), 4000, 1100, ACK, new byte[0], payload(1000, 2));
        byte[] fin = tcp4(ip4(3), 4000, 2100, ACK | TcpHeader.FIN, new byte[0], payload(1000, 3));
        byte[] s4 = tcp4(ip4(4), 4000, 3101, ACK, new byte[0], payload(1000, 4));
        byte[] s5 = tcp4(ip4(5), 4000, 4101, ACK, new byte[0], payload(1000, 5));
        byte[] corrupt = FlowPackets.corrupted(tcp4(ip4(6), 4000, 5101, ACK, new byte[0], payload(1000, 6)));
        byte[] s7 = tcp4(ip4(7), 4000, 6101, ACK, new byte[0], payload(1000, 7));
        byte[] options = tcp4(ip4(8).options(new byte[] {1, 1, 1, 0}), 4000, 7101, ACK, new byte[0], payload(1000, 8));
        byte[] icmp = FlowPackets.other4(ip4(9), 1, payload(1000, 9));
        List<byte[]> packets = List.of(s1, s2, fin, s4, s5, corrupt, s7, options, icmp);
        try (TunnelHarness harness = harness()) {
            writeInOneFlush(harness, packets);
            // s1+s2, fin, s4+s5, corrupt, s7, options, icmp
            assertEquals(7, harness.tunnel().writeBufferSize());
            for (byte[] written : harness.tunnel().writeBuffer()) {
                if (written.length == VirtioNetHeader.LENGTH + 1040) { // one of the unmerged: behind the empty header
                    assertArrayEquals(new byte[VirtioNetHeader.LENGTH], Arrays.copyOf(written, VirtioNetHeader.LENGTH));
                }
            }
            assertPacketsEqual(packets, harness.tunnel().takeAllDelivered());
            assertFalse(harness.finish());
        }
    }

    @Test
    void headersThatDifferEndTheSuperPacket() {
        List<byte[]> packets = List.of(
                udp4(ip4(1), 6000, payload(1000, 1)),
                udp4(ip4(2), 6000, payload(1000, 2)),
                udp4(ip4(4), 6000, payload(1000, 3)),             // identification skips one
                udp4(ip4(5).ttl(63), 6000, payload(1000, 4)),     // another TTL
                udp4(ip4(6).ttl(63), 6000, payload(1000, 5)),
                udp4(ip4(7).ttl(63), 6000, payload(1001, 6)),     // larger than the first
                udp4(ip4(8).ttl(63), 6000, payload(1001, 7)),
                udp4(ip4(9).ttl(63), 6000, payload(500, 8)),      // shorter: last of its group
                udp4(ip4(10).ttl(63), 6000, payload(500, 9)));    // nothing after a shorter one
        try (TunnelHarness harness = harness()) {
            writeInOneFlush(harness, packets);
            // [1,2], [4], [5,6], [7,8,9] (1001, 1001, 500), [10]
            assertEquals(5, harness.tunnel().writeBufferSize());
            assertPacketsEqual(packets, harness.tunnel().takeAllDelivered());
            assertFalse(harness.finish());
        }
        long seq = 1;
        List<byte[]> tcp = List.of(
                tcp4(ip4(1), 7000, seq, PSH, new byte[0], payload(100, 1)),             // PSH: nothing may follow
                tcp4(ip4(2), 7000, seq + 100, ACK, new byte[0], payload(100, 2)),
                tcp4(ip4(3), 7000, seq + 300, ACK, new byte[0], payload(100, 3)),       // a hole in the sequence
                tcp4(ip4(4), 7000, seq + 400, ACK, TIMESTAMPS, payload(100, 4)),        // other options
                tcp4(ip4(5), 7000, seq + 500, ACK | TcpHeader.SYN, new byte[0], payload(100, 5)));
        try (TunnelHarness harness = harness()) {
            writeInOneFlush(harness, tcp);
            assertEquals(5, harness.tunnel().writeBufferSize(), "nothing merged");
            assertPacketsEqual(tcp, harness.tunnel().takeAllDelivered());
            assertFalse(harness.finish());
        }
    }

    @Test
    void aSuperPacketHoldsAtMost64KiBAnd64Segments() {
        List<byte[]> large = new ArrayList<>();
        for (int i = 0; i < 100; i++) {
            large.add(udp4(ip4(i), 8000, payload(1400, i)));
        }
        List<byte[]> small = new ArrayList<>();
        for (int i = 0; i < 130; i++) {
            small.add(udp4(ip4(i), 8001, payload(100, i)));
        }
        try (TunnelHarness harness = harness()) {
            writeInOneFlush(harness, large);
            List<byte[]> written = harness.tunnel().writeBuffer();
            // (65535 - 28) / 1400 = 46 datagrams per super-packet
            assertEquals(3, written.size());
            for (byte[] packet : written) {
                assertTrue(packet.length <= VirtioNetHeader.LENGTH + 65535, "at most 64 KiB: " + packet.length);
            }
            assertEquals(VirtioNetHeader.LENGTH + 28 + 46 * 1400, written.get(0).length);
            assertPacketsEqual(large, harness.tunnel().takeAllDelivered());

            writeInOneFlush(harness, small);
            assertEquals(3, harness.tunnel().writeBufferSize(), "64 + 64 + 2");
            assertPacketsEqual(small, harness.tunnel().takeAllDelivered());
            assertFalse(harness.finish());
        }
    }

    @Test
    void onlyTheOffloadsTheKernelAcceptedAreUsed() {
        MemoryIoSystem olderKernel = new MemoryIoSystem();
        olderKernel.setSupportedOffloadFlags(MemoryIoSystem.ALL_OFFLOAD_FLAGS & ~(TunIoctl.TUN_F_USO4 | TunIoctl.TUN_F_USO6));
        List<byte[]> packets = new ArrayList<>(tcpStream4(3, 100));
        for (int i = 0; i < 3; i++) {
            packets.add(udp4(ip4(500 + i), 9000, payload(1000, i)));
        }
        try (TunnelHarness harness = harness(olderKernel)) {
            assertEquals(EnumSet.of(GsoOffload.TSO4, GsoOffload.TSO6), coalescer.offloads());
            writeInOneFlush(harness, packets);
            assertEquals(1 + 3, harness.tunnel().writeBufferSize(), "TCP merged, UDP not");
            assertPacketsEqual(packets, harness.tunnel().takeAllDelivered());
            assertFalse(harness.finish());
        }
        try (TunnelHarness harness = harness()) {
            coalescer.setOffloads(Set.of());
            writeInOneFlush(harness, packets);
            List<byte[]> written = harness.tunnel().takeAllWritten();
            assertEquals(packets.size(), written.size(), "no offloads: the empty header, nothing merged");
            for (int i = 0; i < packets.size(); i++) {
                byte[] expected = new byte[VirtioNetHeader.LENGTH + packets.get(i).length];
                System.arraycopy(packets.get(i), 0, expected, VirtioNetHeader.LENGTH, packets.get(i).length);
                assertArrayEquals(expected, written.get(i));
            }
            assertFalse(harness.finish());
        }
    }

    @Test
    void mergedWritesCompleteWithTheSuperPacketsWriteAndFailWithIt() {
        try (TunnelHarness harness = harness()) {
            List<ChannelFuture> futures = writeInOneFlush(harness, tcpStream4(4, 100));
            for (ChannelFuture future : futures) {
                assertTrue(future.isSuccess());
            }
            harness.tunnel().takeAllWritten();
            harness.tunnel().setSendBufferSize(2000); // the super-packet is larger: ENOBUFS
            futures = writeInOneFlush(harness, tcpStream4(4, 100));
            for (ChannelFuture future : futures) {
                assertTrue(future.isDone() && !future.isSuccess());
                assertInstanceOf(ErrnoException.class, future.cause());
            }
            assertEquals(0, harness.tunnel().writeBufferSize());
            assertFalse(harness.finish(), "nothing leaked");
        }
    }

    @Test
    void closingWithPacketsHeldFailsAndReleasesThem() {
        try (TunnelHarness harness = harness()) {
            List<ChannelFuture> futures = new ArrayList<>();
            for (byte[] packet : tcpStream4(3, 10)) {
                futures.add(harness.channel().write(PooledByteBufAllocator.DEFAULT.directBuffer().writeBytes(packet)));
            }
            harness.channel().close();
            harness.runPendingTasks();
            for (ChannelFuture future : futures) {
                assertInstanceOf(ClosedChannelException.class, future.cause());
            }
            assertEquals(0, harness.tunnel().writtenCount());
            assertFalse(harness.finish(), "nothing leaked");
        }
    }

    @Test
    void removedWithPacketsHeldItPassesThemOnUnmerged() {
        try (TunnelHarness harness = harness()) {
            List<byte[]> packets = tcpStream4(3, 10);
            for (byte[] packet : packets) {
                harness.channel().write(PooledByteBufAllocator.DEFAULT.directBuffer().writeBytes(packet));
            }
            harness.channel().pipeline().remove(coalescer);
            harness.channel().flush();
            harness.runPendingTasks();
            assertEquals(3, harness.tunnel().writeBufferSize());
            assertPacketsEqual(packets, harness.tunnel().takeAllDelivered());
            assertFalse(harness.finish());
        }
    }
}
