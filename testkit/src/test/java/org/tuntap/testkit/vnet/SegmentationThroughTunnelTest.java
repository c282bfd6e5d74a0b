package org.tuntap.testkit.vnet;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.channel.socket.DatagramPacket;
import org.junit.jupiter.api.Test;
import org.tuntap.codec.ipv4.Ipv4Codec;
import org.tuntap.codec.ipv6.Ipv6Codec;
import org.tuntap.codec.udp.UdpCodec;
import org.tuntap.codec.vnet.VirtioNetHeader;
import org.tuntap.codec.vnet.VnetHeaderEncoder;
import org.tuntap.codec.vnet.VnetSegmentationHandler;
import org.tuntap.testkit.TunnelHarness;
import org.tuntap.testsupport.InetPackets;
import org.tuntap.transport.TunChannelOption;
import org.tuntap.transport.TunOffload;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.Arrays;
import java.util.EnumSet;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The segmentation handler on a {@code TunChannel} with {@code VNET_HDR} and offloads, on the
 * in-memory tunnel: the "kernel" hands over TSO/USO super-packets, the pipeline above sees
 * ordinary packets (byte for byte what {@link InetPackets} builds for each segment) and the
 * codecs work as on any TUN channel; what they write goes out behind the empty header.
 */
class SegmentationThroughTunnelTest {
    private static final byte[] KERNEL = {(byte) 198, 51, 100, 1};
    private static final byte[] APP = {(byte) 198, 51, 100, 2};
    private static final byte[] KERNEL6 = {0x20, 0x01, 0x0d, (byte) 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
    private static final byte[] APP6 = {0x20, 0x01, 0x0d, (byte) 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2};
    private static final int MSS = 1448;

    private static TunnelHarness.Builder vnet(EnumSet<TunOffload> offloads) {
        return TunnelHarness.builder()
                .option(TunChannelOption.VNET_HDR, true)
                .option(TunChannelOption.OFFLOADS, offloads);
    }

    @Test
    void tcpSuperPacketsInBothFamiliesArriveAsTheKernelsSegments() {
        VnetSegmentationHandler segmentation = new VnetSegmentationHandler();
        try (TunnelHarness harness = vnet(EnumSet.of(TunOffload.CSUM, TunOffload.TSO4, TunOffload.TSO6))
                .handlers(segmentation, new VnetHeaderEncoder()).build()) {
            byte[] payload = payload(5 * MSS - 11);
            byte[][][] families = {{KERNEL, APP}, {KERNEL6, APP6}};
            for (byte[][] family : families) {
                boolean v4 = family[0].length == 4;
                int l3 = v4 ? InetPackets.IPV4_HEADER : InetPackets.IPV6_HEADER;
                byte[] superPacket = InetPackets.withPartialChecksum(InetPackets.tcp(family[0], family[1], 45678, 5001,
                        1_000_000, 2_000_000, 0x18, 4242, new byte[0], payload)); // ACK|PSH
                harness.tunnel().addToReadBuffer(header(v4 ? VirtioNetHeader.GSO_TCPV4 : VirtioNetHeader.GSO_TCPV6,
                        l3 + 20, MSS, l3, 16), superPacket);
                harness.runPendingTasks();
                for (int i = 0; i < 5; i++) {
                    byte[] slice = Arrays.copyOfRange(payload, i * MSS, Math.min(payload.length, (i + 1) * MSS));
                    byte[] expected = InetPackets.tcp(family[0], family[1], 45678, 5001, 1_000_000 + (long) i * MSS,
                            2_000_000, i == 4 ? 0x18 : 0x10, v4 ? 4242 + i : 0, new byte[0], slice);
                    assertArrayEquals(expected, take(harness), (v4 ? "IPv4" : "IPv6") + " segment " + i);
                }
                assertNull(harness.readInbound(), "five segments, no more");
            }
            assertEquals(0, segmentation.dropCounters().total());
        }
    }

    @Test
    void udpSuperPacketsReachTheUdpCodecAsDatagramsAndRepliesGoOutBehindTheEmptyHeader() throws Exception {
        VnetSegmentationHandler segmentation = new VnetSegmentationHandler();
        try (TunnelHarness harness = vnet(EnumSet.allOf(TunOffload.class))
                .handlers(segmentation, new VnetHeaderEncoder(), new Ipv6Codec(), new Ipv4Codec(), new UdpCodec()).build()) {
            byte[] payload = payload(3 * 1000);
            byte[][][] families = {{KERNEL, APP}, {KERNEL6, APP6}};
            for (byte[][] family : families) {
                boolean v4 = family[0].length == 4;
                int l3 = v4 ? InetPackets.IPV4_HEADER : InetPackets.IPV6_HEADER;
                harness.tunnel().addToReadBuffer(header(VirtioNetHeader.GSO_UDP_L4, l3 + 8, 1000, l3, 6),
                        InetPackets.withPartialChecksum(InetPackets.udp(family[0], family[1], 7000, 6000, 9, payload)));
                harness.runPendingTasks();
                InetSocketAddress sender = new InetSocketAddress(InetAddress.getByAddress(family[0]), 7000);
                for (int i = 0; i < 3; i++) {
                    DatagramPacket datagram = harness.readInbound();
                    try {
                        assertEquals(sender, datagram.sender());
                        assertEquals(6000, datagram.recipient().getPort());
                        assertArrayEquals(Arrays.copyOfRange(payload, i * 1000, (i + 1) * 1000),
                                ByteBufUtil.getBytes(datagram.content()), "datagram " + i);
                    } finally {
                        datagram.release();
                    }
                }
                assertNull(harness.readInbound());

                ByteBuf reply = PooledByteBufAllocator.DEFAULT.directBuffer().writeBytes("pong".getBytes());
                harness.writeOutbound(new DatagramPacket(reply, sender,
                        new InetSocketAddress(InetAddress.getByAddress(family[1]), 6000)));
                byte[] written = harness.readFromTunnel();
                assertArrayEquals(new byte[VirtioNetHeader.LENGTH], Arrays.copyOf(written, VirtioNetHeader.LENGTH),
                        "the empty header first");
                byte[] packet = Arrays.copyOfRange(written, VirtioNetHeader.LENGTH, written.length);
                assertEquals(v4 ? 4 : 6, InetPackets.version(packet));
                assertTrue(InetPackets.checksumsValid(packet));
                assertArrayEquals("pong".getBytes(), InetPackets.payload(packet));
            }
            assertEquals(0, segmentation.dropCounters().total());
        }
    }

    private static byte[] take(TunnelHarness harness) {
        ByteBuf segment = harness.readInbound();
        assertTrue(segment != null, "a segment");
        try {
            return ByteBufUtil.getBytes(segment);
        } finally {
            segment.release();
        }
    }

    private static byte[] header(int gsoType, int hdrLen, int gsoSize, int csumStart, int csumOffset) {
        ByteBuf buf = PooledByteBufAllocator.DEFAULT.heapBuffer();
        try {
            return ByteBufUtil.getBytes(VirtioNetHeader.write(buf, VirtioNetHeader.FLAG_NEEDS_CSUM, gsoType, hdrLen,
                    gsoSize, csumStart, csumOffset));
        } finally {
            buf.release();
        }
    }

    private static byte[] payload(int length) {
        byte[] payload = new byte[length];
        for (int i = 0; i < length; i++) {
            payload[i] = (byte) (i % 253);
        }
        return payload;
    }
}
