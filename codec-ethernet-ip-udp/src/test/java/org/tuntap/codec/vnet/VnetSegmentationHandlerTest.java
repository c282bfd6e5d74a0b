package org.tuntap.codec.vnet;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.DecoderException;
import org.junit.jupiter.api.Test;
import org.tuntap.codec.DropReason;
import org.tuntap.testsupport.InetPackets;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.tuntap.codec.vnet.VirtioNetHeader.FLAG_NEEDS_CSUM;
import static org.tuntap.codec.vnet.VirtioNetHeader.GSO_ECN;
import static org.tuntap.codec.vnet.VirtioNetHeader.GSO_NONE;
import static org.tuntap.codec.vnet.VirtioNetHeader.GSO_TCPV4;
import static org.tuntap.codec.vnet.VirtioNetHeader.GSO_TCPV6;
import static org.tuntap.codec.vnet.VirtioNetHeader.GSO_UDP;
import static org.tuntap.codec.vnet.VirtioNetHeader.GSO_UDP_L4;
import static org.tuntap.testsupport.InetPackets.IPV4_HEADER;
import static org.tuntap.testsupport.InetPackets.IPV6_HEADER;

/**
 * {@link VnetSegmentationHandler} (with {@link VnetPacketLayout}, {@link GsoSegmenter} and
 * {@link PartialChecksum}): super-packets in, segments out byte for byte as independently built
 * packets ({@link InetPackets}) say the kernel's GSO makes them; partial checksums completed;
 * every malformed header a counted drop with nothing leaked.
 */
class VnetSegmentationHandlerTest {
    private static final byte[] V4_A = {(byte) 192, 0, 2, 1};
    private static final byte[] V4_B = {(byte) 198, 51, 100, 7};
    private static final byte[] V6_A = v6(1);
    private static final byte[] V6_B = v6(2);
    /** NOP, NOP, timestamps: what a Linux TCP puts on every data segment. */
    private static final byte[] TIMESTAMPS = {1, 1, 8, 10, 0, 0, 0, 1, 0, 0, 0, 2};
    private static final int TCP = 20 + TIMESTAMPS.length;
    private static final int MSS = 1448;

    @Test
    void aTso4SuperPacketBecomesTheKernelsSegments() {
        byte[] payload = payload(3 * MSS + 100);
        int flags = TcpHeaderFlags.ACK | TcpHeaderFlags.PSH | TcpHeaderFlags.FIN | TcpHeaderFlags.CWR;
        long seq = 0xFFFF_F000L; // the sequence number wraps inside the super-packet
        int id = 0xFFFE; // and so does the IPv4 identification
        byte[] superPacket = InetPackets.withPartialChecksum(
                InetPackets.tcp(V4_A, V4_B, 40000, 443, seq, 77, flags, id, TIMESTAMPS, payload));
        // hdr_len 0: a hint the segmenter must not need.
        List<byte[]> segments = segment(header(FLAG_NEEDS_CSUM, GSO_TCPV4 | GSO_ECN, 0, MSS, IPV4_HEADER, 16), superPacket);
        assertEquals(4, segments.size());
        for (int i = 0; i < 4; i++) {
            byte[] slice = Arrays.copyOfRange(payload, i * MSS, Math.min(payload.length, (i + 1) * MSS));
            int expectedFlags = GsoSegmenter.segmentFlags(flags, i, 4);
            byte[] expected = InetPackets.tcp(V4_A, V4_B, 40000, 443, (seq + (long) i * MSS) & 0xFFFF_FFFFL, 77,
                    expectedFlags, (id + i) & 0xFFFF, TIMESTAMPS, slice);
            assertArrayEquals(expected, segments.get(i), "segment " + i);
            assertTrue(InetPackets.checksumsValid(segments.get(i)));
        }
        assertEquals(TcpHeaderFlags.ACK | TcpHeaderFlags.CWR, InetPackets.tcpFlags(segments.get(0)), "CWR on the first only");
        assertEquals(TcpHeaderFlags.ACK, InetPackets.tcpFlags(segments.get(1)));
        assertEquals(TcpHeaderFlags.ACK | TcpHeaderFlags.PSH | TcpHeaderFlags.FIN, InetPackets.tcpFlags(segments.get(3)),
                "FIN and PSH on the last only");
        assertEquals((seq + MSS) & 0xFFFF_FFFFL, InetPackets.tcpSeq(segments.get(1)), "the sequence number wraps");
    }

    @Test
    void aTso6SuperPacketBecomesTheKernelsSegments() {
        byte[] payload = payload(2 * 1000 + 1);
        int flags = TcpHeaderFlags.ACK | TcpHeaderFlags.PSH;
        byte[] superPacket = InetPackets.withPartialChecksum(
                InetPackets.tcp(V6_A, V6_B, 40000, 443, 1, 2, flags, 0, new byte[0], payload));
        List<byte[]> segments = segment(header(FLAG_NEEDS_CSUM, GSO_TCPV6, 60, 1000, IPV6_HEADER, 16), superPacket);
        assertEquals(3, segments.size());
        for (int i = 0; i < 3; i++) {
            byte[] slice = Arrays.copyOfRange(payload, i * 1000, Math.min(payload.length, (i + 1) * 1000));
            byte[] expected = InetPackets.tcp(V6_A, V6_B, 40000, 443, 1 + i * 1000L, 2,
                    i == 2 ? flags : TcpHeaderFlags.ACK, 0, new byte[0], slice);
            assertArrayEquals(expected, segments.get(i), "segment " + i);
        }
    }

    @Test
    void usoSuperPacketsBecomeDatagramsInBothFamilies() {
        byte[] payload = payload(3 * 1200 - 7);
        byte[][][] families = {{V4_A, V4_B}, {V6_A, V6_B}};
        for (byte[][] family : families) {
            boolean v4 = family[0].length == 4;
            byte[] superPacket = InetPackets.withPartialChecksum(InetPackets.udp(family[0], family[1], 5000, 6000, 100, payload));
            int l4 = v4 ? IPV4_HEADER : IPV6_HEADER;
            List<byte[]> segments = segment(header(FLAG_NEEDS_CSUM, GSO_UDP_L4, l4 + 8, 1200, l4, 6), superPacket);
            assertEquals(3, segments.size());
            for (int i = 0; i < 3; i++) {
                byte[] slice = Arrays.copyOfRange(payload, i * 1200, Math.min(payload.length, (i + 1) * 1200));
                byte[] expected = InetPackets.udp(family[0], family[1], 5000, 6000, v4 ? 100 + i : 0, slice);
                assertArrayEquals(expected, segments.get(i), (v4 ? "IPv4" : "IPv6") + " datagram " + i);
            }
        }
    }

    @Test
    void aSuperPacketOfOneSegmentComesOutWholeWithItsChecksumComplete() {
        byte[] complete = InetPackets.tcp(V4_A, V4_B, 1, 2, 3, 4, TcpHeaderFlags.ACK, 9, new byte[0], payload(500));
        List<byte[]> segments = segment(header(FLAG_NEEDS_CSUM, GSO_TCPV4, 40, MSS, IPV4_HEADER, 16),
                InetPackets.withPartialChecksum(complete));
        assertEquals(1, segments.size());
        assertArrayEquals(complete, segments.get(0));
    }

    @Test
    void bytesAfterTheIpLengthAreNotPayload() {
        byte[] payload = payload(2 * 600);
        byte[] superPacket = InetPackets.withPartialChecksum(InetPackets.udp(V4_A, V4_B, 5, 6, 1, payload));
        byte[] padded = Arrays.copyOf(superPacket, superPacket.length + 3);
        List<byte[]> segments = segment(header(FLAG_NEEDS_CSUM, GSO_UDP_L4, 28, 600, IPV4_HEADER, 6), padded);
        assertEquals(2, segments.size());
        assertArrayEquals(InetPackets.udp(V4_A, V4_B, 5, 6, 2, Arrays.copyOfRange(payload, 600, 1200)), segments.get(1));
    }

    @Test
    void aPartialChecksumOnAnOrdinaryPacketIsCompleted() {
        byte[] udp = InetPackets.udp(V6_A, V6_B, 53, 5353, 0, payload(301)); // odd length: the last byte is padded
        byte[] tcp = InetPackets.tcp(V4_A, V4_B, 80, 8080, 5, 6, TcpHeaderFlags.ACK, 3, TIMESTAMPS, payload(99));
        assertArrayEquals(udp, single(segment(header(FLAG_NEEDS_CSUM, GSO_NONE, 0, 0, IPV6_HEADER, 6),
                InetPackets.withPartialChecksum(udp))));
        assertArrayEquals(tcp, single(segment(header(FLAG_NEEDS_CSUM, GSO_NONE, 0, 0, IPV4_HEADER, 16),
                InetPackets.withPartialChecksum(tcp))));
    }

    @Test
    void aPacketWithoutNeedsCsumPassesUnchangedBehindTheHeader() {
        byte[] anything = {0x45, 1, 2, 3, 4}; // not even IPv4: the layers above judge it
        assertArrayEquals(anything, single(segment(header(0, GSO_NONE, 0, 0, 0, 0), anything)));
    }

    @Test
    void malformedHeadersAndPacketsAreCountedDrops() {
        byte[] tcp4 = InetPackets.tcp(V4_A, V4_B, 1, 2, 3, 4, TcpHeaderFlags.ACK, 5, new byte[0], payload(3000));
        byte[] udp4 = InetPackets.udp(V4_A, V4_B, 1, 2, 5, payload(3000));
        byte[] tcp6 = InetPackets.tcp(V6_A, V6_B, 1, 2, 3, 4, TcpHeaderFlags.ACK, 0, new byte[0], payload(3000));
        byte[] tso4 = header(FLAG_NEEDS_CSUM, GSO_TCPV4, 40, MSS, 20, 16);
        Object[][] cases = {
            {"gso_size 0", header(FLAG_NEEDS_CSUM, GSO_TCPV4, 40, 0, 20, 16), tcp4, DropReason.BAD_VNET_HEADER},
            {"unknown gso_type", header(FLAG_NEEDS_CSUM, 7, 40, MSS, 20, 16), tcp4, DropReason.UNSUPPORTED_GSO},
            {"UFO", header(FLAG_NEEDS_CSUM, GSO_UDP, 28, MSS, 20, 6), udp4, DropReason.UNSUPPORTED_GSO},
            {"ECN alone", header(0, GSO_ECN, 0, 0, 0, 0), tcp4, DropReason.BAD_VNET_HEADER},
            {"ECN on UDP", header(FLAG_NEEDS_CSUM, GSO_UDP_L4 | GSO_ECN, 28, MSS, 20, 6), udp4, DropReason.BAD_VNET_HEADER},
            {"TCPV4 on UDP", tso4, udp4, DropReason.BAD_VNET_HEADER},
            {"TCPV4 on IPv6", tso4, tcp6, DropReason.BAD_VNET_HEADER},
            {"TCPV6 on IPv4", header(FLAG_NEEDS_CSUM, GSO_TCPV6, 60, MSS, 40, 16), tcp4, DropReason.BAD_VNET_HEADER},
            {"csum_start not at TCP", header(FLAG_NEEDS_CSUM, GSO_TCPV4, 40, MSS, 24, 16), tcp4, DropReason.BAD_VNET_HEADER},
            {"csum_offset not TCP's", header(FLAG_NEEDS_CSUM, GSO_TCPV4, 40, MSS, 20, 6), tcp4, DropReason.BAD_VNET_HEADER},
            {"csum_start beyond the packet", header(FLAG_NEEDS_CSUM, GSO_NONE, 0, 0, 5000, 6), udp4, DropReason.BAD_VNET_HEADER},
            {"checksum field beyond the packet", header(FLAG_NEEDS_CSUM, GSO_NONE, 0, 0, 20, udp4.length - 21),
                udp4, DropReason.BAD_VNET_HEADER},
            {"IHL beyond the data", tso4, patch(Arrays.copyOf(tcp4, 50), 0, 0x4F), DropReason.TRUNCATED},
            {"IHL below 5", tso4, patch(tcp4, 0, 0x44), DropReason.BAD_HEADER_LENGTH},
            {"total length beyond the data", tso4, Arrays.copyOf(tcp4, 1000), DropReason.BAD_LENGTH},
            {"TCP header cut", tso4, ipv4TotalLength(Arrays.copyOf(tcp4, 30), 30), DropReason.TRUNCATED},
            {"TCP data offset below 5", tso4, patch(tcp4, 32, 0x40), DropReason.BAD_HEADER_LENGTH},
            {"TCP data offset beyond the packet", tso4, ipv4TotalLength(patch(Arrays.copyOf(tcp4, 50), 32, 0xF0), 50),
                DropReason.TRUNCATED},
            {"UDP length lying", header(FLAG_NEEDS_CSUM, GSO_UDP_L4, 28, MSS, 20, 6), patch(udp4, 24, 0), DropReason.BAD_LENGTH},
            {"a fragment", tso4, patch(tcp4, 6, 0x20), DropReason.FRAGMENT},
            {"IPv6 extension header", header(FLAG_NEEDS_CSUM, GSO_TCPV6, 60, MSS, 40, 16), patch(tcp6, 6, 0),
                DropReason.UNSUPPORTED_GSO},
            {"IPv6 payload length beyond the data", header(FLAG_NEEDS_CSUM, GSO_TCPV6, 60, MSS, 40, 16),
                Arrays.copyOf(tcp6, 100), DropReason.BAD_LENGTH},
        };
        for (Object[] c : cases) {
            VnetSegmentationHandler handler = new VnetSegmentationHandler();
            EmbeddedChannel channel = new EmbeddedChannel(handler);
            ByteBuf read = read((byte[]) c[1], (byte[]) c[2]);
            channel.writeInbound(read);
            assertNull(channel.readInbound(), c[0] + ": nothing passed on");
            assertEquals(0, read.refCnt(), c[0] + ": released");
            assertEquals(1L, handler.dropCounters().get((DropReason) c[3]), c[0] + ": " + handler.dropCounters());
            assertEquals(1L, handler.dropCounters().total(), String.valueOf(c[0]));
            channel.finishAndReleaseAll();
        }
    }

    @Test
    void onTapEverySegmentCarriesTheSuperPacketsEthernetHeader() {
        byte[] payload = payload(2 * MSS + 9);
        byte[] tso4 = InetPackets.withPartialChecksum(
                InetPackets.tcp(V4_A, V4_B, 40000, 443, 1000, 77, TcpHeaderFlags.ACK, 41, TIMESTAMPS, payload));
        byte[] uso6 = InetPackets.withPartialChecksum(InetPackets.udp(V6_A, V6_B, 5000, 6000, 0, payload));
        Object[][] cases = { // what, ethertype, gso_type, transport offset, transport header, checksum offset, packet, gso_size
            {"TSO4", 0x0800, GSO_TCPV4, IPV4_HEADER, TCP, 16, tso4, 1000},
            {"USO6", 0x86DD, GSO_UDP_L4, IPV6_HEADER, 8, 6, uso6, 1200},
        };
        for (Object[] c : cases) {
            byte[] ethernet = ethernetHeader((int) c[1]);
            int gsoType = (int) c[2];
            int transport = (int) c[3];
            int headers = transport + (int) c[4];
            List<byte[]> tun = segment(header(FLAG_NEEDS_CSUM, gsoType, headers, (int) c[7], transport, (int) c[5]),
                    (byte[]) c[6]);
            // On TAP hdr_len and csum_start count the Ethernet header too.
            List<byte[]> tap = segment(VnetSegmentationHandler.forEthernet(),
                    header(FLAG_NEEDS_CSUM, gsoType, ETHERNET + headers, (int) c[7], ETHERNET + transport, (int) c[5]),
                    concat(ethernet, (byte[]) c[6]));
            assertTrue(tun.size() > 1, c[0] + ": a super-packet");
            assertEquals(tun.size(), tap.size(), c[0] + ": segments");
            for (int i = 0; i < tun.size(); i++) {
                assertArrayEquals(concat(ethernet, tun.get(i)), tap.get(i), c[0] + ": segment " + i
                        + " is the TUN segment behind the super-packet's Ethernet header");
            }
        }
        byte[] partial = InetPackets.withPartialChecksum(InetPackets.udp(V4_A, V4_B, 1, 2, 3, payload(300)));
        assertArrayEquals(concat(ethernetHeader(0x0800), InetPackets.udp(V4_A, V4_B, 1, 2, 3, payload(300))),
                single(segment(VnetSegmentationHandler.forEthernet(),
                        header(FLAG_NEEDS_CSUM, GSO_NONE, 0, 0, ETHERNET + IPV4_HEADER, 6), concat(ethernetHeader(0x0800), partial))),
                "a frame's partial checksum completed where csum_start says");
    }

    @Test
    void onTapASuperPacketsLinkHeaderMustCarryItsFamily() {
        byte[] uso4 = InetPackets.udp(V4_A, V4_B, 1, 2, 5, payload(3000));
        byte[] header = header(FLAG_NEEDS_CSUM, GSO_UDP_L4, ETHERNET + 28, MSS, ETHERNET + 20, 6);
        byte[] tagged = concat(Arrays.copyOf(ethernetHeader(0x8100), 12), new byte[] {(byte) 0x81, 0, 0, 5, 8, 0});
        Object[][] cases = {
            {"IPv6's ethertype on an IPv4 super-packet", concat(ethernetHeader(0x86DD), uso4), DropReason.BAD_VNET_HEADER},
            {"ARP's ethertype", concat(ethernetHeader(0x0806), uso4), DropReason.BAD_VNET_HEADER},
            {"a VLAN tag", concat(tagged, uso4), DropReason.UNSUPPORTED_GSO},
            {"shorter than the Ethernet header", Arrays.copyOf(ethernetHeader(0x0800), 10), DropReason.TRUNCATED},
            {"no Ethernet header at all (a TUN packet)", uso4, DropReason.BAD_VNET_HEADER},
        };
        for (Object[] c : cases) {
            VnetSegmentationHandler handler = VnetSegmentationHandler.forEthernet();
            EmbeddedChannel channel = new EmbeddedChannel(handler);
            ByteBuf read = read(header, (byte[]) c[1]);
            channel.writeInbound(read);
            assertNull(channel.readInbound(), c[0] + ": nothing passed on");
            assertEquals(0, read.refCnt(), c[0] + ": released");
            assertEquals(1L, handler.dropCounters().get((DropReason) c[2]), c[0] + ": " + handler.dropCounters());
            channel.finishAndReleaseAll();
        }
    }

    @Test
    void shorterThanTheHeaderIsTruncated() {
        VnetSegmentationHandler handler = new VnetSegmentationHandler();
        EmbeddedChannel channel = new EmbeddedChannel(handler);
        ByteBuf read = PooledByteBufAllocator.DEFAULT.directBuffer().writeZero(9);
        channel.writeInbound(read);
        assertNull(channel.readInbound());
        assertEquals(0, read.refCnt());
        assertEquals(1L, handler.dropCounters().get(DropReason.TRUNCATED));
        channel.finishAndReleaseAll();
    }

    @Test
    void strictModeRaisesAfterCountingAndReleasing() {
        VnetSegmentationHandler handler = new VnetSegmentationHandler().setStrict(true);
        EmbeddedChannel channel = new EmbeddedChannel(handler);
        ByteBuf read = read(header(FLAG_NEEDS_CSUM, GSO_TCPV4, 40, 0, 20, 16),
                InetPackets.tcp(V4_A, V4_B, 1, 2, 3, 4, 0, 0, new byte[0], payload(10)));
        assertThrows(DecoderException.class, () -> channel.writeInbound(read));
        assertEquals(0, read.refCnt());
        assertEquals(1L, handler.dropCounters().get(DropReason.BAD_VNET_HEADER));
        assertTrue(channel.isActive(), "a drop does not close the channel");
        channel.finishAndReleaseAll();
    }

    @Test
    void otherMessagesPassThrough() {
        EmbeddedChannel channel = new EmbeddedChannel(new VnetSegmentationHandler());
        Object message = "not a packet";
        channel.writeInbound(message);
        assertSame(message, channel.readInbound());
        channel.finishAndReleaseAll();
    }

    @Test
    void theEncoderPutsTheEmptyHeaderInFrontOfEveryWrittenPacket() {
        EmbeddedChannel channel = new EmbeddedChannel(new VnetHeaderEncoder());
        byte[] packet = InetPackets.udp(V4_A, V4_B, 1, 2, 3, payload(40));
        ByteBuf written = PooledByteBufAllocator.DEFAULT.directBuffer().writeBytes(packet);
        channel.writeOutbound(written);
        ByteBuf out = channel.readOutbound();
        try {
            byte[] expected = new byte[VirtioNetHeader.LENGTH + packet.length];
            System.arraycopy(packet, 0, expected, VirtioNetHeader.LENGTH, packet.length);
            assertArrayEquals(expected, ByteBufUtil.getBytes(out));
        } finally {
            out.release();
        }
        assertEquals(0, written.refCnt(), "the packet is released with the framed buffer");
        Object other = "passes";
        channel.writeOutbound(other);
        assertSame(other, channel.readOutbound());
        channel.finishAndReleaseAll();
    }

    // ---- helpers ----

    /** The TCP flag bits, spelled out here rather than borrowed from the code under test. */
    private static final class TcpHeaderFlags {
        static final int FIN = 0x01;
        static final int PSH = 0x08;
        static final int ACK = 0x10;
        static final int CWR = 0x80;
    }

    /** Feeds header + packet through a fresh handler; returns what it fired, copied, all buffers released. */
    private static List<byte[]> segment(byte[] header, byte[] packet) {
        return segment(new VnetSegmentationHandler(), header, packet);
    }

    private static List<byte[]> segment(VnetSegmentationHandler handler, byte[] header, byte[] packet) {
        EmbeddedChannel channel = new EmbeddedChannel(handler);
        ByteBuf read = read(header, packet);
        channel.writeInbound(read);
        List<byte[]> out = new ArrayList<>();
        for (ByteBuf segment; (segment = channel.readInbound()) != null; ) {
            try {
                out.add(ByteBufUtil.getBytes(segment));
            } finally {
                segment.release();
            }
        }
        assertEquals(0, read.refCnt(), "the read is released");
        assertEquals(0L, handler.dropCounters().total(), handler.dropCounters().toString());
        channel.finishAndReleaseAll();
        return out;
    }

    private static byte[] single(List<byte[]> packets) {
        assertEquals(1, packets.size());
        return packets.get(0);
    }

    private static ByteBuf read(byte[] header, byte[] packet) {
        return PooledByteBufAllocator.DEFAULT.directBuffer().writeBytes(header).writeBytes(packet);
    }

    private static byte[] header(int flags, int gsoType, int hdrLen, int gsoSize, int csumStart, int csumOffset) {
        ByteBuf buf = PooledByteBufAllocator.DEFAULT.heapBuffer();
        try {
            return ByteBufUtil.getBytes(VirtioNetHeader.write(buf, flags, gsoType, hdrLen, gsoSize, csumStart, csumOffset));
        } finally {
            buf.release();
        }
    }

    private static byte[] payload(int length) {
        byte[] payload = new byte[length];
        for (int i = 0; i < length; i++) {
            payload[i] = (byte) (i * 7 + i / 251);
        }
        return payload;
    }

    private static final int ETHERNET = 14;

    /** An untagged Ethernet header, from 02:00:00:00:00:01 to 02:00:00:00:00:02. */
    private static byte[] ethernetHeader(int etherType) {
        return new byte[] {2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1, (byte) (etherType >>> 8), (byte) etherType};
    }

    private static byte[] concat(byte[] a, byte[] b) {
        byte[] both = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, both, a.length, b.length);
        return both;
    }

    private static byte[] patch(byte[] packet, int at, int value) {
        byte[] p = packet.clone();
        p[at] = (byte) value;
        return p;
    }

    private static byte[] ipv4TotalLength(byte[] packet, int total) {
        byte[] p = patch(packet, 2, total >>> 8);
        p[3] = (byte) total;
        return p;
    }

    private static byte[] v6(int last) {
        byte[] a = new byte[16];
        a[0] = 0x20;
        a[1] = 0x01;
        a[2] = 0x0d;
        a[3] = (byte) 0xb8;
        a[15] = (byte) last;
        return a;
    }
}
