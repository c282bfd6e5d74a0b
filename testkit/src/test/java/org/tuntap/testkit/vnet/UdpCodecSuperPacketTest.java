package org.tuntap.testkit.vnet;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.channel.socket.DatagramPacket;
import org.junit.jupiter.api.Test;
import org.tuntap.codec.ipv4.Ipv4Codec;
import org.tuntap.codec.ipv6.Ipv6Codec;
import org.tuntap.codec.udp.UdpCodec;
import org.tuntap.codec.vnet.CoalescingHandler;
import org.tuntap.codec.vnet.GsoOffload;
import org.tuntap.codec.vnet.VirtioNetHeader;
import org.tuntap.testkit.TunnelHarness;
import org.tuntap.testkit.UdpReceiver;
import org.tuntap.transport.TunChannelOption;
import org.tuntap.transport.TunOffload;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.Arrays;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

/**
 * The UDP codec's datagrams of one flush go out as one USO super-packet: UdpCodec, Ipv4Codec
 * (fused path) and Ipv6Codec above a {@link CoalescingHandler}, on a channel with VNET_HDR.
 */
class UdpCodecSuperPacketTest {
    private static final InetSocketAddress LOCAL4 = new InetSocketAddress("198.51.100.2", 7);
    private static final InetSocketAddress LOCAL6 = new InetSocketAddress("2001:db8::2", 7);
    private static final InetSocketAddress PEER4 = new InetSocketAddress("192.0.2.1", 21345);
    private static final InetSocketAddress PEER6 = new InetSocketAddress("2001:db8::1", 21345);

    private static TunnelHarness harness(CoalescingHandler coalescer, Set<TunOffload> offloads) {
        TunnelHarness harness = TunnelHarness.builder()
                .option(TunChannelOption.VNET_HDR, true)
                .option(TunChannelOption.OFFLOADS, offloads)
                .handlers(coalescer, new Ipv6Codec(), new Ipv4Codec(), new UdpCodec(LOCAL4).setDefaultLocalAddress(LOCAL6))
                .build();
        coalescer.setOffloads(GsoOffload.fromNames(harness.channel().config().getAppliedOffloads()));
        return harness;
    }

    private static void writeDatagrams(TunnelHarness harness, InetSocketAddress to, int count, int size) {
        for (int i = 0; i < count; i++) {
            ByteBuf payload = PooledByteBufAllocator.DEFAULT.directBuffer(size).writeBytes(FlowPackets.payload(size, i));
            harness.channel().write(new DatagramPacket(payload, to));
        }
        harness.channel().flush();
        harness.runPendingTasks();
    }

    @Test
    void ipv4DatagramsOfOneFlushAreOneWriteAndArriveInOrder() throws Exception {
        for (int size : new int[] {200, 1400}) { // copied next to their headers, and zero-copy composites
            try (TunnelHarness harness = harness(new CoalescingHandler(Set.of()), EnumSet.allOf(TunOffload.class))) {
                writeDatagrams(harness, PEER4, 40, size);
                assertEquals(1, harness.tunnel().writeBufferSize(), "one USO super-packet");
                assertEquals(VirtioNetHeader.GSO_UDP_L4, harness.tunnel().writeBuffer().get(0)[1]);
                assertEquals(1, harness.channel().counters().packetsWritten());
                UdpReceiver peer = harness.ioSystem().receiveUdp(harness.channel().fd(), InetAddress.getByName("192.0.2.1"), 21345);
                assertEquals(40, peer.available());
                for (int i = 0; i < 40; i++) {
                    UdpReceiver.Datagram datagram = peer.recvFrom(65535);
                    assertArrayEquals(FlowPackets.payload(size, i), datagram.payload(), "datagram " + i);
                    assertEquals(LOCAL4, datagram.sender());
                }
                assertFalse(harness.finish());
            }
        }
    }

    @Test
    void ipv6DatagramsToo() {
        try (TunnelHarness harness = harness(new CoalescingHandler(Set.of()), EnumSet.allOf(TunOffload.class))) {
            writeDatagrams(harness, PEER6, 10, 1000);
            assertEquals(1, harness.tunnel().writeBufferSize());
            List<byte[]> delivered = harness.tunnel().takeAllDelivered();
            assertEquals(10, delivered.size());
            for (int i = 0; i < 10; i++) {
                byte[] packet = delivered.get(i);
                assertEquals(40 + 8 + 1000, packet.length);
                assertArrayEquals(FlowPackets.payload(1000, i), Arrays.copyOfRange(packet, 48, packet.length));
            }
            assertFalse(harness.finish());
        }
    }

    @Test
    void withoutUsoEveryDatagramIsAWriteOfItsOwn() {
        try (TunnelHarness harness = harness(new CoalescingHandler(Set.of()),
                EnumSet.of(TunOffload.CSUM, TunOffload.TSO4, TunOffload.TSO6))) {
            writeDatagrams(harness, PEER4, 5, 300);
            assertEquals(5, harness.tunnel().writeBufferSize());
            assertEquals(5, harness.tunnel().takeAllDelivered().size());
            assertFalse(harness.finish());
        }
    }
}
