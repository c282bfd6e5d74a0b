package org.tuntap.codec.fragment;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.channel.embedded.EmbeddedChannel;
import org.junit.jupiter.api.Test;
import org.tuntap.codec.DropReason;
import org.tuntap.codec.TestPackets;
import org.tuntap.codec.ipv6.Ipv6Codec;
import org.tuntap.codec.ipv6.Ipv6ExtensionHeader;
import org.tuntap.codec.ipv6.Ipv6Header;
import org.tuntap.codec.ipv6.Ipv6Packet;
import org.tuntap.codec.ipv6.Ipv6Repr;
import org.tuntap.codec.udp.UdpHeader;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** IPv6 reassembly in a pipeline: the kernel's fragments, extension headers on both sides of the fragment header. */
class Ipv6ReassemblyHandlerTest {

    private final Ipv6ReassemblyHandler reassembly = new Ipv6ReassemblyHandler();
    private final EmbeddedChannel channel = new EmbeddedChannel(new Ipv6Codec().setPassFragments(true), reassembly);

    @Test
    void theKernelsFragmentsBecomeOneUdpPacket() {
        for (int i : new int[] {1, 2}) {
            assertFalse(channel.writeInbound(TestPackets.tracked(TestPackets.fixture("tun6-udp-3000-fragment" + i + ".hex"))));
        }
        assertTrue(reassembly.bytesHeld() > 0);
        assertTrue(channel.writeInbound(TestPackets.tracked(TestPackets.fixture("tun6-udp-3000-fragment0.hex"))));
        Ipv6Packet whole = assertInstanceOf(Ipv6Packet.class, channel.readInbound());
        assertFalse(whole.hasFragmentHeader());
        assertEquals(Ipv6Header.PROTOCOL_UDP, whole.nextHeader());
        assertEquals(Ipv6Header.PROTOCOL_UDP, whole.upperLayerProtocol());
        assertEquals(3008, whole.payloadLength());
        assertEquals(3008, whole.upperLayerLength());
        assertNull(UdpHeader.checkIpv6(whole.content(), whole.upperLayerIndex(), whole.upperLayerLength(),
                whole.content().readerIndex(), true), "the kernel's checksum over the whole datagram");
        ByteBuf data = whole.upperLayerPayload();
        for (int i = 0; i < 3000; i++) {
            assertEquals(i % 251, data.getUnsignedByte(8 + i), "byte " + i);
        }
        whole.release();
        assertEquals(0, reassembly.bytesHeld());
        assertFalse(channel.finish());
    }

    @Test
    void extensionHeadersBeforeAndAfterTheFragmentHeaderAreKept() {
        // The original: hop-by-hop (unfragmentable) | destination options (fragmentable) | 600 bytes of protocol 253.
        Random random = new Random(7112);
        byte[] payload = new byte[600];
        random.nextBytes(payload);
        ByteBuf original = PooledByteBufAllocator.DEFAULT.heapBuffer();
        new Ipv6Repr().source(0x20010db8_00000000L, 1).destination(0x20010db8_00000000L, 2).nextHeader(Ipv6Header.HOP_BY_HOP)
                .emit(original, 0, 8 + 16 + payload.length);
        original.writerIndex(40)
                .writeBytes(new byte[] {(byte) Ipv6Header.DESTINATION_OPTIONS, 0, 1, 4, 0, 0, 0, 0})
                .writeBytes(new byte[] {(byte) 253, 1, 1, 12, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0})
                .writeBytes(payload);
        byte[] fragmentable = ByteBufUtil.getBytes(original, 48, 16 + payload.length); // 616 bytes

        int[][] pieces = {{0, 304}, {304, 608}, {608, 616}};
        for (int p : new int[] {2, 0, 1}) {
            int offset = pieces[p][0];
            int end = pieces[p][1];
            ByteBuf fragment = PooledByteBufAllocator.DEFAULT.directBuffer();
            new Ipv6Repr().source(0x20010db8_00000000L, 1).destination(0x20010db8_00000000L, 2).nextHeader(Ipv6Header.HOP_BY_HOP)
                    .emit(fragment, 0, 8 + 8 + end - offset);
            fragment.writerIndex(40).writeBytes(new byte[] {(byte) Ipv6Header.FRAGMENT, 0, 1, 4, 0, 0, 0, 0}).writeZero(8);
            Ipv6ExtensionHeader.setFragment(fragment, 48, Ipv6Header.DESTINATION_OPTIONS, offset / 8, end != 616, 0x5722);
            fragment.writeBytes(fragmentable, offset, end - offset);
            channel.writeInbound(fragment);
        }
        Ipv6Packet whole = assertInstanceOf(Ipv6Packet.class, channel.readInbound());
        assertEquals(ByteBufUtil.hexDump(original), ByteBufUtil.hexDump(whole.content()), "the packet before fragmentation");
        assertEquals(253, whole.upperLayerProtocol());
        assertEquals(40 + 8 + 16, whole.upperLayerIndex() - whole.content().readerIndex());
        whole.release();
        original.release();
        assertFalse(channel.finish());
    }

    @Test
    void wholePacketsAndOtherMessagesPassUntouched() {
        ByteBuf whole = TestPackets.tracked(TestPackets.fixture("tun6-udp.hex"));
        assertTrue(channel.writeInbound(whole));
        Ipv6Packet packet = channel.readInbound();
        assertSame(whole, packet.content());
        packet.release();
        assertFalse(channel.finish());
    }

    @Test
    void fragmentsHeldAtCloseAreReleased() {
        ByteBuf fragment = TestPackets.tracked(TestPackets.fixture("tun6-udp-3000-fragment1.hex"));
        assertFalse(channel.writeInbound(fragment));
        assertEquals(1, fragment.refCnt(), "held");
        assertFalse(channel.finish());
        assertEquals(0, fragment.refCnt(), "released when the handler went with the channel");
        assertEquals(0, reassembly.dropCounters().get(DropReason.REASSEMBLY_TIMEOUT));
    }
}
