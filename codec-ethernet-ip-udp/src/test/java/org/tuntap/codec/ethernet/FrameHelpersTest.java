package org.tuntap.codec.ethernet;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import org.junit.jupiter.api.Test;
import org.tuntap.codec.DropReason;
import org.tuntap.codec.EtherType;
import org.tuntap.codec.TestPackets;
import org.tuntap.codec.pi.PiHeader;
import org.tuntap.codec.pi.PiPacket;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

/** The one-call builders and parsers the test kit uses for Ethernet and PI. */
class FrameHelpersTest {

    @Test
    void twistedStyleTapFrameRoundTrips() {
        // Twisted's Tunnel wraps IPv4 for TAP: broadcast destination, zero source, 0x0800.
        ByteBuf out = PooledByteBufAllocator.DEFAULT.directBuffer();
        PiHeader.write(out, 0, EtherType.IPV4);
        EthernetHeader.write(out, MacAddress.BROADCAST, MacAddress.ZERO, EtherType.IPV4);
        out.writeBytes(TestPackets.bytes(TestPackets.CHECK_VECTOR));
        assertEquals("00000800" + "ffffffffffff" + "000000000000" + "0800" + TestPackets.CHECK_VECTOR.replace(" ", ""),
                TestPackets.hex(out));

        PiPacket pi = PiPacket.parse(out).value();
        assertEquals(EtherType.IPV4, pi.proto());
        EthernetFrame frame = EthernetFrame.parse(pi.content()).value();
        assertEquals(MacAddress.BROADCAST, frame.destination());
        assertEquals(MacAddress.ZERO, frame.source());
        assertEquals(EtherType.IPV4, frame.etherType());
        assertEquals(TestPackets.CHECK_VECTOR.replace(" ", ""), TestPackets.hex(frame.content()));
        frame.release();
        pi.release();
        assertEquals(1, out.refCnt());
        out.release();
    }

    @Test
    void shortInputFailsWithAReason() {
        ByteBuf three = TestPackets.buf("000008");
        assertEquals(DropReason.TRUNCATED, PiPacket.parse(three).failure());
        assertEquals(DropReason.TRUNCATED, EthernetFrame.parse(three).failure());
        three.release();
        ByteBuf tagged = TestPackets.buf("ffffffffffff 000000000000 8100 0005 0806 01");
        EthernetFrame frame = EthernetFrame.parse(tagged).value();
        assertEquals(5, frame.vlanId());
        assertEquals(EtherType.ARP, frame.etherType());
        assertFalse(frame.content().readableBytes() != 1);
        frame.release();
        tagged.release();
    }
}
