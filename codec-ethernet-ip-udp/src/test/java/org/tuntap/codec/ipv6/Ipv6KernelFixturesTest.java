package org.tuntap.codec.ipv6;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.channel.embedded.EmbeddedChannel;
import org.junit.jupiter.api.Test;
import org.tuntap.codec.DropReason;
import org.tuntap.codec.TestPackets;
import org.tuntap.codec.buffer.Headroom;
import org.tuntap.codec.udp.UdpHeader;

import java.net.InetAddress;
import java.nio.charset.StandardCharsets;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** IPv6 packets Linux wrote to a TUN device (src/test/fixtures/capture_ipv6.py), parsed and rebuilt. */
class Ipv6KernelFixturesTest {

    @Test
    void udpDatagramParsesVerifiesAndIsRebuiltByteForByte() throws Exception {
        byte[] kernel = TestPackets.fixture("tun6-udp.hex");
        EmbeddedChannel channel = new EmbeddedChannel(new Ipv6Codec());
        ByteBuf in = TestPackets.tracked(kernel);
        assertTrue(channel.writeInbound(in));
        Ipv6Packet packet = channel.readInbound();
        assertEquals(6, packet.version());
        assertEquals(0x0e4904, packet.flowLabel(), "Linux sets an automatic flow label");
        assertEquals(64, packet.hopLimit());
        assertEquals(InetAddress.getByName("2001:db8::1"), packet.source());
        assertEquals(InetAddress.getByName("2001:db8::2"), packet.destination());
        assertEquals(Ipv6Header.PROTOCOL_UDP, packet.upperLayerProtocol());
        assertEquals(40, packet.upperLayerIndex());
        assertFalse(packet.hasFragmentHeader());
        int udp = packet.upperLayerIndex();
        assertNull(UdpHeader.checkIpv6(packet.content(), udp, packet.upperLayerLength(), 0, true), "the kernel's checksum verifies");
        assertEquals("hello over IPv6", packet.content().toString(udp + 8, packet.upperLayerLength() - 8, StandardCharsets.US_ASCII));

        // Rebuilt from the parts the way UdpCodec will: UDP header into headroom, then Ipv6Datagram through the codec.
        ByteBuf payload = PooledByteBufAllocator.DEFAULT.directBuffer().writeBytes(packet.content(), udp + 8, packet.upperLayerLength() - 8);
        ByteBuf segment = Headroom.prepend(PooledByteBufAllocator.DEFAULT, payload, UdpHeader.LENGTH);
        UdpHeader.setIpv6(Headroom.headerBuffer(segment), segment.readerIndex(), packet.sourceHigh(), packet.sourceLow(),
                packet.destinationHigh(), packet.destinationLow(), 40000, 9999, payload, payload.readerIndex(), payload.readableBytes(), true);
        payload.release();
        EmbeddedChannel out = new EmbeddedChannel(new Ipv6Codec().setFlowLabel(0x0e4904));
        assertTrue(out.writeOutbound(new Ipv6Datagram(packet.source(), packet.destination(), Ipv6Header.PROTOCOL_UDP, segment)));
        ByteBuf rebuilt = out.readOutbound();
        assertEquals(TestPackets.hex(packet.content()), TestPackets.hex(rebuilt));
        rebuilt.release();
        packet.release();
        assertFalse(out.finish());
        assertFalse(channel.finish());
    }

    @Test
    void kernelFragmentsAreDroppedOrPassedWithTheirFields() {
        Ipv6Codec dropping = new Ipv6Codec();
        EmbeddedChannel dropper = new EmbeddedChannel(dropping);
        EmbeddedChannel passer = new EmbeddedChannel(new Ipv6Codec().setPassFragments(true));
        int[] offsets = {0, 154, 308}; // 1232 bytes per fragment at MTU 1280
        int data = 0;
        for (int i = 0; i < 3; i++) {
            byte[] kernel = TestPackets.fixture("tun6-udp-3000-fragment" + i + ".hex");
            ByteBuf dropped = TestPackets.tracked(kernel);
            assertFalse(dropper.writeInbound(dropped));
            assertEquals(0, dropped.refCnt());

            assertTrue(passer.writeInbound(TestPackets.tracked(kernel)));
            Ipv6Packet fragment = passer.readInbound();
            assertTrue(fragment.isFragment());
            assertEquals(40, fragment.fragmentHeaderIndex());
            assertEquals(offsets[i], fragment.fragmentOffset());
            assertEquals(i < 2, fragment.moreFragments());
            assertEquals(0xa16c83de, fragment.fragmentIdentification());
            assertEquals(Ipv6Header.PROTOCOL_UDP, fragment.upperLayerProtocol());
            assertEquals(48, fragment.upperLayerIndex());
            data += fragment.upperLayerLength();
            fragment.release();
        }
        assertEquals(3, dropping.dropCounters().get(DropReason.FRAGMENT));
        assertEquals(3008, data, "UDP header and 3000 bytes");
        assertFalse(dropper.finish());
        assertFalse(passer.finish());
    }
}
