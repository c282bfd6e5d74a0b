package org.tuntap.codec.fragment;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.channel.socket.DatagramPacket;
import io.netty.handler.codec.EncoderException;
import org.junit.jupiter.api.Test;
import org.tuntap.codec.DropReason;
import org.tuntap.codec.ParseResult;
import org.tuntap.codec.TestPackets;
import org.tuntap.codec.ipv4.Ipv4Codec;
import org.tuntap.codec.ipv4.Ipv4Fragmenter;
import org.tuntap.codec.ipv4.Ipv4Header;
import org.tuntap.codec.ipv4.Ipv4Packet;
import org.tuntap.codec.ipv4.Ipv4Repr;
import org.tuntap.codec.ipv6.Ipv6Codec;
import org.tuntap.codec.ipv6.Ipv6Datagram;
import org.tuntap.codec.ipv6.Ipv6ExtensionHeader;
import org.tuntap.codec.ipv6.Ipv6Fragmenter;
import org.tuntap.codec.ipv6.Ipv6Header;
import org.tuntap.codec.ipv6.Ipv6Packet;
import org.tuntap.codec.udp.UdpCodec;
import org.tuntap.codec.udp.UdpPackets;

import java.net.Inet6Address;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Outbound fragmentation, checked against the reassembly handlers: whatever the IP codecs cut at
 * their MTU, the receiving side puts back together into exactly the packet that would have been
 * sent whole.
 */
class OutboundFragmentationTest {

    private static final InetSocketAddress APP = new InetSocketAddress("192.0.2.2", 7);
    private static final InetSocketAddress PEER = new InetSocketAddress("192.0.2.1", 40000);
    private static final InetSocketAddress APP6 = new InetSocketAddress("2001:db8::2", 7);
    private static final InetSocketAddress PEER6 = new InetSocketAddress("2001:db8::1", 40000);
    /** Room for the 8190 fragments of a 65535-byte packet at the smallest MTU. */
    private static final ReassemblyLimits ROOMY = new ReassemblyLimits(64L << 20, Duration.ofSeconds(30), 10_000);

    private static byte[] payload(int size) {
        byte[] payload = new byte[size];
        new Random(size).nextBytes(payload);
        return payload;
    }

    /** What {@code sender} writes for one datagram of {@code payload} to {@code to}: the packets, oldest first. */
    private static List<byte[]> send(EmbeddedChannel sender, byte[] payload, InetSocketAddress to) {
        ChannelFuture write = sender.writeAndFlush(new DatagramPacket(TestPackets.tracked(payload), to));
        assertTrue(write.isSuccess(), () -> "write failed: " + write.cause());
        List<byte[]> packets = new ArrayList<>();
        for (ByteBuf packet; (packet = sender.readOutbound()) != null; ) {
            packets.add(ByteBufUtil.getBytes(packet));
            packet.release();
        }
        return packets;
    }

    private static EmbeddedChannel ipv4Sender(int mtu) {
        return new EmbeddedChannel(new Ipv4Codec().setMtu(mtu).setNextIdentification(4242), new UdpCodec(APP));
    }

    /** The packets, in the order given, through the IPv4 reassembly handler: the one whole packet that comes out. */
    private static byte[] reassembleIpv4(List<byte[]> packets) {
        Ipv4ReassemblyHandler reassembly = new Ipv4ReassemblyHandler(ROOMY);
        EmbeddedChannel receiver = new EmbeddedChannel(new Ipv4Codec().setPassFragments(true), reassembly);
        for (byte[] packet : packets) {
            receiver.writeInbound(TestPackets.tracked(packet));
        }
        Ipv4Packet whole = assertInstanceOf(Ipv4Packet.class, receiver.readInbound(), "nothing reassembled");
        byte[] bytes = ByteBufUtil.getBytes(whole.content());
        whole.release();
        assertNull(receiver.readInbound());
        assertEquals(0, reassembly.dropCounters().total(), () -> "reassembly drops " + reassembly.dropCounters());
        assertFalse(receiver.finish());
        return bytes;
    }

    @Test
    void ipv4DatagramsAroundTheMtuComeBackByteForByte() {
        for (int mtu : new int[] {68, 69, 75, 576, 1283, 1500, 9000}) {
            EmbeddedChannel whole = ipv4Sender(0);
            EmbeddedChannel cut = ipv4Sender(mtu);
            int fit = mtu - 28; // the largest UDP payload that fits one packet
            for (int size : new int[] {0, 1, fit - 1, fit, fit + 1, fit + 7, fit + 8, fit + 9, 2 * fit, 4000, 65507}) {
                if (size < 0 || size > 65507 || size == 65507 && mtu > 68 && mtu < 576) { // thousands of fragments: at 68 once
                    continue;
                }
                byte[] payload = payload(size);
                List<byte[]> original = send(whole, payload, PEER);
                List<byte[]> fragments = send(cut, payload, PEER);
                assertEquals(1, original.size());
                String where = "MTU " + mtu + ", " + size + " bytes";
                int packetLength = original.get(0).length;
                if (packetLength <= mtu) {
                    assertEquals(1, fragments.size(), where);
                    assertArrayEquals(original.get(0), fragments.get(0), where + ": sent whole, as it is");
                    continue;
                }
                int perFragment = (mtu - 20) & ~7;
                int identification = (original.get(0)[4] & 0xFF) << 8 | original.get(0)[5] & 0xFF;
                assertEquals((packetLength - 20 + perFragment - 1) / perFragment, fragments.size(), where);
                for (int i = 0; i < fragments.size(); i++) {
                    ByteBuf fragment = TestPackets.tracked(fragments.get(i));
                    boolean last = i == fragments.size() - 1;
                    assertTrue(fragment.readableBytes() <= mtu, where + ", fragment " + i);
                    assertEquals(fragment.readableBytes(), Ipv4Header.totalLength(fragment, 0));
                    assertEquals(0, TestPackets.naiveChecksum(fragments.get(i), 0, 20), where + ": header checksum");
                    assertEquals(identification, Ipv4Header.identification(fragment, 0), where + ": the datagram's");
                    assertEquals(!last, Ipv4Header.moreFragments(fragment, 0), where + ", fragment " + i);
                    assertEquals(i * perFragment / 8, Ipv4Header.fragmentOffset(fragment, 0), where + ", fragment " + i);
                    if (!last) {
                        assertEquals(perFragment, fragment.readableBytes() - 20, "a multiple of 8, as much as fits");
                    }
                    fragment.release();
                }
                assertArrayEquals(original.get(0), reassembleIpv4(fragments), where);
                if (fragments.size() > 200) {
                    continue;
                }
                List<byte[]> reversed = new ArrayList<>(fragments);
                Collections.reverse(reversed);
                assertArrayEquals(original.get(0), reassembleIpv4(reversed), where + ", last fragment first");
            }
            assertFalse(whole.finish());
            assertFalse(cut.finish());
        }
    }

    @Test
    void datagramsWithinTheMtuStayOnTheFusedPathAndOverItAreFragmentedFromWithinARead() {
        // An echo: the datagram read is written back from within its own read.
        EmbeddedChannel echo = new EmbeddedChannel(new Ipv4Codec().setMtu(1500), new UdpCodec(APP),
                new ChannelInboundHandlerAdapter() {
                    @Override
                    public void channelRead(ChannelHandlerContext ctx, Object msg) {
                        DatagramPacket datagram = (DatagramPacket) msg;
                        ctx.writeAndFlush(new DatagramPacket(datagram.content(), datagram.sender(), datagram.recipient()));
                    }
                });
        for (int size : new int[] {1472, 1473, 4000}) {
            ByteBuf data = TestPackets.tracked(payload(size));
            ByteBuf packet = UdpPackets.build(PooledByteBufAllocator.DEFAULT, PEER, APP, data);
            data.release();
            echo.writeInbound(packet);
            ByteBuf first = echo.readOutbound();
            if (size == 1472) {
                assertSame(packet, first, "within the MTU: the fused path, the echo built in place in the buffer read");
                assertNull(echo.readOutbound());
                first.release();
                continue;
            }
            List<byte[]> fragments = new ArrayList<>();
            fragments.add(ByteBufUtil.getBytes(first));
            first.release();
            for (ByteBuf next; (next = echo.readOutbound()) != null; ) {
                fragments.add(ByteBufUtil.getBytes(next));
                next.release();
            }
            assertEquals((size + 8 + 1479) / 1480, fragments.size(), size + " bytes");
            byte[] whole = reassembleIpv4(fragments);
            assertUdpPayload(payload(size), whole);
        }
        assertFalse(echo.finish());
    }

    @Test
    void dontFragmentRefusesTheWriteNamingSizeMtuAndDf() {
        Ipv4Codec ipv4 = new Ipv4Codec().setMtu(1500).setDontFragment(true);
        EmbeddedChannel sender = new EmbeddedChannel(ipv4, new UdpCodec(APP));
        ChannelFuture refused = sender.writeAndFlush(new DatagramPacket(TestPackets.tracked(payload(2000)), PEER));
        Ipv4Codec.FragmentationNeededException e =
                assertInstanceOf(Ipv4Codec.FragmentationNeededException.class, refused.cause());
        assertEquals(2028, e.packetLength());
        assertEquals(1500, e.mtu());
        assertTrue(e.getMessage().contains("2028") && e.getMessage().contains("1500") && e.getMessage().contains("DF"),
                e.getMessage());
        assertNull(sender.readOutbound(), "nothing sent");
        assertEquals(1, ipv4.dropCounters().get(DropReason.FRAGMENTATION_NEEDED));
        // Within the MTU, DF or not, it goes.
        assertEquals(1, send(sender, payload(1472), PEER).size());
        assertEquals(1, ipv4.dropCounters().total());
        assertFalse(sender.finish());
    }

    @Test
    void laterFragmentsKeepOnlyTheOptionsWhoseCopiedFlagIsSet() {
        // Router alert (0x94: copied), record route (7: not copied), a NOP, padded to 12 bytes.
        byte[] options = {(byte) 0x94, 4, 0, 0, 7, 7, 4, 0, 0, 0, 0, 1};
        ByteBuf out = PooledByteBufAllocator.DEFAULT.heapBuffer();
        ByteBuf data = TestPackets.tracked(payload(3000));
        Ipv4Repr ip = new Ipv4Repr().source(0xC0000202).destination(0xC0000201).identification(77).options(options);
        UdpPackets.write(out, ip, 7, 40000, data, true);
        data.release();
        byte[] original = ByteBufUtil.getBytes(out);
        EmbeddedChannel sender = new EmbeddedChannel(new Ipv4Codec().setMtu(1000));
        assertTrue(sender.writeAndFlush(new Ipv4Packet(out)).isSuccess());
        List<byte[]> fragments = new ArrayList<>();
        for (ByteBuf packet; (packet = sender.readOutbound()) != null; ) {
            fragments.add(ByteBufUtil.getBytes(packet));
            packet.release();
        }
        assertEquals(4, fragments.size(), "3008 bytes: 968 in the first (header 32), 976 in the others (header 24)");
        assertArrayEquals(options, Arrays.copyOfRange(fragments.get(0), 20, 32), "the first keeps them all");
        for (byte[] later : fragments.subList(1, fragments.size())) {
            assertEquals(0x46, later[0] & 0xFF, "IHL 6: 20 bytes and the one copied option");
            assertArrayEquals(new byte[] {(byte) 0x94, 4, 0, 0}, Arrays.copyOfRange(later, 20, 24));
            assertEquals(0, TestPackets.naiveChecksum(later, 0, 24));
        }
        assertEquals(968, fragments.get(0).length - 32);
        assertEquals(976, fragments.get(1).length - 24);
        assertArrayEquals(original, reassembleIpv4(fragments), "the first fragment's header makes the whole one");
        assertFalse(sender.finish());
    }

    @Test
    void aMalformedOptionEndsWhatLaterFragmentsCopy() {
        // Router alert (copied), then a loose source route (copied) whose length runs past the options.
        byte[] options = {(byte) 0x94, 4, 0, 0, (byte) 0x83, 9, 4, 0};
        ByteBuf out = PooledByteBufAllocator.DEFAULT.heapBuffer();
        ByteBuf data = TestPackets.tracked(payload(2000));
        UdpPackets.write(out, new Ipv4Repr().source(0xC0000202).destination(0xC0000201).options(options), 7, 40000, data, true);
        data.release();
        EmbeddedChannel sender = new EmbeddedChannel(new Ipv4Codec().setMtu(1500));
        assertTrue(sender.writeAndFlush(new Ipv4Packet(out)).isSuccess());
        ByteBuf first = sender.readOutbound();
        assertEquals(28, Ipv4Header.headerLength(first, first.readerIndex()), "the first fragment keeps the header as it is");
        first.release();
        ByteBuf second = sender.readOutbound();
        int at = second.readerIndex();
        assertEquals(24, Ipv4Header.headerLength(second, at), "the router alert only: the walk stops at the bad option");
        assertEquals(0x94, second.getUnsignedByte(at + 20));
        second.release();
        assertNull(sender.readOutbound());
        assertFalse(sender.finish());
    }

    @Test
    void anIpv4FragmentIsCutAgainWithItsOffsetAndMoreFragmentsKept() {
        ByteBuf out = PooledByteBufAllocator.DEFAULT.heapBuffer();
        ByteBuf data = TestPackets.tracked(payload(1992)); // 2000 data bytes with the UDP header
        UdpPackets.write(out, new Ipv4Repr().source(0xC0000202).destination(0xC0000201).identification(9), 7, 40000, data, true);
        data.release();
        Ipv4Header.setFragment(out, 0, true, 100); // data at 800..2800 of a bigger datagram, more to come
        Ipv4Header.updateChecksum(out, 0);
        EmbeddedChannel sender = new EmbeddedChannel(new Ipv4Codec().setMtu(1000));
        assertTrue(sender.writeAndFlush(new Ipv4Packet(out)).isSuccess());
        int[] offsets = {100, 222, 344};
        for (int offset : offsets) {
            ByteBuf fragment = sender.readOutbound();
            int at = fragment.readerIndex();
            boolean more = Ipv4Header.moreFragments(fragment, at);
            int actual = Ipv4Header.fragmentOffset(fragment, at);
            fragment.release();
            assertEquals(offset, actual);
            assertTrue(more, "the original's more-fragments stays on the last piece");
        }
        assertNull(sender.readOutbound());
        assertFalse(sender.finish());
    }

    @Test
    void mtusBelowEachFamilysMinimumAreRefused() {
        assertThrows(IllegalArgumentException.class, () -> new Ipv4Codec().setMtu(67));
        assertThrows(IllegalArgumentException.class, () -> new Ipv6Codec().setMtu(1279));
        assertEquals(Ipv4Fragmenter.MIN_MTU, new Ipv4Codec().setMtu(68).mtu());
        assertEquals(Ipv6Fragmenter.MIN_MTU, new Ipv6Codec().setMtu(1280).mtu());
        assertEquals(0, new Ipv4Codec().setMtu(1500).setMtu(0).mtu(), "0: off again");
    }

    // ---- IPv6 ----

    private static EmbeddedChannel ipv6Sender(int mtu, int identification) {
        return new EmbeddedChannel(new Ipv6Codec().setMtu(mtu).setNextFragmentIdentification(identification),
                new Ipv4Codec(), new UdpCodec(APP6));
    }

    private static byte[] reassembleIpv6(List<byte[]> packets) {
        Ipv6ReassemblyHandler reassembly = new Ipv6ReassemblyHandler(ROOMY);
        EmbeddedChannel receiver = new EmbeddedChannel(new Ipv6Codec().setPassFragments(true), reassembly);
        for (byte[] packet : packets) {
            receiver.writeInbound(TestPackets.tracked(packet));
        }
        Ipv6Packet whole = assertInstanceOf(Ipv6Packet.class, receiver.readInbound(), "nothing reassembled");
        byte[] bytes = ByteBufUtil.getBytes(whole.content());
        whole.release();
        assertNull(receiver.readInbound());
        assertEquals(0, reassembly.dropCounters().total(), () -> "reassembly drops " + reassembly.dropCounters());
        assertFalse(receiver.finish());
        return bytes;
    }

    @Test
    void ipv6DatagramsAroundTheMtuComeBackByteForByte() {
        for (int mtu : new int[] {1280, 1281, 1283, 1500, 1501, 9000}) {
            EmbeddedChannel whole = ipv6Sender(0, 0);
            EmbeddedChannel cut = ipv6Sender(mtu, 0x1234_5678);
            int fit = mtu - 48;
            for (int size : new int[] {0, fit - 1, fit, fit + 1, fit + 8, 2 * fit, 4000, 65527}) {
                byte[] payload = payload(size);
                List<byte[]> original = send(whole, payload, PEER6);
                List<byte[]> fragments = send(cut, payload, PEER6);
                String where = "MTU " + mtu + ", " + size + " bytes";
                int packetLength = original.get(0).length;
                if (packetLength <= mtu) {
                    assertEquals(1, fragments.size(), where);
                    assertArrayEquals(original.get(0), fragments.get(0), where + ": sent whole");
                    continue;
                }
                int perFragment = (mtu - 48) & ~7;
                int dataLength = packetLength - 40;
                assertEquals((dataLength + perFragment - 1) / perFragment, fragments.size(), where);
                int identification = -1;
                for (int i = 0; i < fragments.size(); i++) {
                    ByteBuf fragment = TestPackets.tracked(fragments.get(i));
                    boolean last = i == fragments.size() - 1;
                    assertTrue(fragment.readableBytes() <= mtu, where + ", fragment " + i);
                    assertEquals(fragment.readableBytes() - 40, Ipv6Header.payloadLength(fragment, 0));
                    assertEquals(Ipv6Header.FRAGMENT, Ipv6Header.nextHeader(fragment, 0));
                    assertEquals(Ipv6Header.PROTOCOL_UDP, Ipv6ExtensionHeader.nextHeader(fragment, 40));
                    assertEquals(i * perFragment / 8, Ipv6ExtensionHeader.fragmentOffset(fragment, 40), where);
                    assertEquals(!last, Ipv6ExtensionHeader.moreFragments(fragment, 40), where);
                    if (!last) {
                        assertEquals(perFragment, fragment.readableBytes() - 48, where + ": a multiple of 8, as much as fits");
                    }
                    if (i == 0) {
                        identification = Ipv6ExtensionHeader.fragmentIdentification(fragment, 40);
                    }
                    assertEquals(identification, Ipv6ExtensionHeader.fragmentIdentification(fragment, 40),
                            "one identification per datagram");
                    fragment.release();
                }
                assertArrayEquals(original.get(0), reassembleIpv6(fragments), where);
                Collections.reverse(fragments);
                assertArrayEquals(original.get(0), reassembleIpv6(fragments), where + ", last fragment first");
            }
            assertFalse(whole.finish());
            assertFalse(cut.finish());
        }
    }

    @Test
    void eachIpv6DatagramGetsAnIdentificationOfItsOwn() {
        EmbeddedChannel sender = ipv6Sender(1280, -1);
        List<Integer> identifications = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            List<byte[]> fragments = send(sender, payload(3000), PEER6);
            ByteBuf first = TestPackets.tracked(fragments.get(0));
            identifications.add(Ipv6ExtensionHeader.fragmentIdentification(first, 40));
            first.release();
        }
        assertEquals(List.of(-1, 0, 1), identifications, "counting up from where it was set, wrapping");
        assertFalse(sender.finish());
    }

    @Test
    void ipv6ExtensionHeadersAreSplitIntoUnfragmentableAndFragmentableParts() throws Exception {
        // hop-by-hop (unfragmentable) | destination options (fragmentable, no routing header) | 3000 bytes of protocol 253
        ByteBuf segment = PooledByteBufAllocator.DEFAULT.heapBuffer();
        segment.writeBytes(new byte[] {(byte) Ipv6Header.DESTINATION_OPTIONS, 0, 1, 4, 0, 0, 0, 0}); // PadN
        segment.writeBytes(new byte[] {(byte) 253, 0, 1, 4, 0, 0, 0, 0});
        segment.writeBytes(payload(3000));
        Inet6Address from = (Inet6Address) APP6.getAddress();
        Inet6Address to = (Inet6Address) PEER6.getAddress();
        EmbeddedChannel whole = new EmbeddedChannel(new Ipv6Codec());
        assertTrue(whole.writeAndFlush(new Ipv6Datagram(from, to, Ipv6Header.HOP_BY_HOP, segment.retainedDuplicate())).isSuccess());
        ByteBuf originalBuf = whole.readOutbound();
        byte[] original = ByteBufUtil.getBytes(originalBuf);
        originalBuf.release();
        EmbeddedChannel cut = new EmbeddedChannel(new Ipv6Codec().setMtu(1280).setNextFragmentIdentification(5));
        assertTrue(cut.writeAndFlush(new Ipv6Datagram(from, to, Ipv6Header.HOP_BY_HOP, segment)).isSuccess());
        List<byte[]> fragments = new ArrayList<>();
        for (ByteBuf packet; (packet = cut.readOutbound()) != null; ) {
            assertEquals(Ipv6Header.HOP_BY_HOP, Ipv6Header.nextHeader(packet, packet.readerIndex()), "repeated first");
            assertEquals(Ipv6Header.FRAGMENT, Ipv6ExtensionHeader.nextHeader(packet, packet.readerIndex() + 40),
                    "the hop-by-hop header now names the fragment header");
            assertEquals(Ipv6Header.DESTINATION_OPTIONS, Ipv6ExtensionHeader.nextHeader(packet, packet.readerIndex() + 48),
                    "which names the first fragmentable header");
            assertTrue(packet.readableBytes() <= 1280);
            fragments.add(ByteBufUtil.getBytes(packet));
            packet.release();
        }
        assertEquals(3, fragments.size(), "3016 fragmentable bytes, 1224 per fragment");
        assertArrayEquals(original, reassembleIpv6(fragments));
        assertFalse(whole.finish());
        assertFalse(cut.finish());
    }

    @Test
    void anIpv6PacketThatIsAlreadyAFragmentIsRefused() {
        EmbeddedChannel fragments = ipv6Sender(1280, 0);
        List<byte[]> pieces = send(fragments, payload(3000), PEER6);
        Ipv6Codec ipv6 = new Ipv6Codec().setMtu(1280);
        EmbeddedChannel sender = new EmbeddedChannel(ipv6);
        // A fragment padded past the MTU: it would need cutting, and must not be cut again.
        ByteBuf big = TestPackets.tracked(pieces.get(0));
        big.writeZero(200);
        big.setShort(4, big.readableBytes() - 40);
        ChannelFuture write = sender.writeAndFlush(Ipv6Packet.parse(big).value());
        big.release();
        assertInstanceOf(EncoderException.class, write.cause());
        assertTrue(write.cause().getMessage().contains("fragment header"), write.cause().getMessage());
        assertEquals(1, ipv6.dropCounters().get(DropReason.FRAGMENTATION_NEEDED));
        assertNull(sender.readOutbound());
        assertFalse(sender.finish());
        assertFalse(fragments.finish());
    }

    /** The IPv4 packet carries UDP whose checksums verify and whose payload is {@code expected}. */
    private static void assertUdpPayload(byte[] expected, byte[] packet) {
        ByteBuf buf = TestPackets.tracked(packet);
        ParseResult<DatagramPacket> parsed = UdpPackets.parse(buf);
        buf.release();
        assertTrue(parsed.isOk(), () -> "not a valid UDP packet: " + parsed.failure());
        DatagramPacket datagram = parsed.value();
        assertArrayEquals(expected, ByteBufUtil.getBytes(datagram.content()), "the UDP checksum verified, the payload whole");
        datagram.release();
    }
}
