package org.tuntap.codec.pi;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.EncoderException;
import org.junit.jupiter.api.Test;
import org.tuntap.codec.DropReason;
import org.tuntap.codec.TestPackets;

import java.nio.ByteOrder;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

class PiCodecTest {

    /** The PI flags as the kernel writes them: host byte order. */
    private static String flagsHex(int flags) {
        ByteBuf b = Unpooled.buffer(2);
        if (ByteOrder.nativeOrder() == ByteOrder.LITTLE_ENDIAN) {
            b.writeShortLE(flags);
        } else {
            b.writeShort(flags);
        }
        String hex = TestPackets.hex(b);
        b.release();
        return hex;
    }

    @Test
    void inboundStripsTheHeaderAndExposesIt() {
        PiCodec pi = PiCodec.forTun();
        EmbeddedChannel channel = new EmbeddedChannel(pi);
        ByteBuf in = TestPackets.buf("0000 0800" + TestPackets.CHECK_VECTOR);
        assertTrue(channel.writeInbound(in));
        PiPacket packet = channel.readInbound();
        assertEquals(0, packet.flags());
        assertEquals(0x0800, packet.proto());
        assertFalse(packet.isTruncated());
        assertEquals(TestPackets.CHECK_VECTOR.replace(" ", ""), TestPackets.hex(packet.content()));
        assertTrue(packet.content().array() == in.array(), "content is a slice, not a copy");
        packet.release();
        assertEquals(0, in.refCnt());
        assertFalse(channel.finish());
    }

    @Test
    void truncatedPacketsAreDroppedUnlessAsked() {
        PiCodec pi = PiCodec.forTun();
        EmbeddedChannel channel = new EmbeddedChannel(pi);
        ByteBuf stripped = TestPackets.buf(flagsHex(PiHeader.TUN_PKT_STRIP) + "0800 4500");
        assertFalse(channel.writeInbound(stripped));
        assertEquals(1, pi.dropCounters().get(DropReason.STRIPPED_BY_KERNEL));
        ByteBuf tiny = TestPackets.buf("000008");
        assertFalse(channel.writeInbound(tiny));
        assertEquals(1, pi.dropCounters().get(DropReason.TRUNCATED));
        assertEquals(0, stripped.refCnt() + tiny.refCnt());

        EmbeddedChannel passing = new EmbeddedChannel(PiCodec.forTun().setPassTruncated(true));
        assertTrue(passing.writeInbound(TestPackets.buf(flagsHex(PiHeader.TUN_PKT_STRIP) + "0800 4500")));
        PiPacket packet = passing.readInbound();
        assertTrue(packet.isTruncated());
        assertEquals("4500", TestPackets.hex(packet.content()));
        packet.release();
        assertFalse(channel.finish());
        assertFalse(passing.finish());
    }

    @Test
    void outboundProtoComesFromTheVersionNibbleOnTun() {
        EmbeddedChannel channel = new EmbeddedChannel(PiCodec.forTun());
        assertTrue(channel.writeOutbound(TestPackets.buf(TestPackets.CHECK_VECTOR)));
        ByteBuf v4 = channel.readOutbound();
        assertEquals("00000800" + TestPackets.CHECK_VECTOR.replace(" ", ""), TestPackets.hex(v4));
        v4.release();
        assertTrue(channel.writeOutbound(TestPackets.buf("60000000")));
        ByteBuf v6 = channel.readOutbound();
        assertEquals("000086dd60000000", TestPackets.hex(v6));
        v6.release();
        ByteBuf garbage = TestPackets.buf("12345678");
        assertInstanceOf(EncoderException.class, channel.writeOneOutbound(garbage).cause());
        assertEquals(0, garbage.refCnt());
        assertFalse(channel.finish());
    }

    @Test
    void outboundProtoComesFromTheEthertypeOnTap() {
        EmbeddedChannel channel = new EmbeddedChannel(PiCodec.forTap());
        String arpFrame = "ffffffffffff 020000000002 0806 0001";
        assertTrue(channel.writeOutbound(TestPackets.buf(arpFrame)));
        ByteBuf out = channel.readOutbound();
        assertEquals("00000806" + arpFrame.replace(" ", ""), TestPackets.hex(out));
        out.release();
        assertFalse(channel.finish());
    }

    @Test
    void piPacketOutboundKeepsItsFields() {
        EmbeddedChannel channel = new EmbeddedChannel(PiCodec.forTun());
        assertTrue(channel.writeOutbound(new PiPacket(0x0001, 0x1234, TestPackets.buf("abcd"))));
        ByteBuf out = channel.readOutbound();
        assertEquals(flagsHex(1) + "1234abcd", TestPackets.hex(out));
        out.release();
        assertFalse(channel.finish());
    }
}
