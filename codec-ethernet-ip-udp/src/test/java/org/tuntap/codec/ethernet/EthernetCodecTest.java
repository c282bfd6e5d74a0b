package org.tuntap.codec.ethernet;

import io.netty.buffer.ByteBuf;
import io.netty.channel.embedded.EmbeddedChannel;
import org.junit.jupiter.api.Test;
import org.tuntap.codec.DropReason;
import org.tuntap.codec.EtherType;
import org.tuntap.codec.TestPackets;
import org.tuntap.codec.pi.PiCodec;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class EthernetCodecTest {

    private static final String HEADER = "020000000001 020000000002 0800";

    @Test
    void macAddressValue() {
        MacAddress mac = MacAddress.parse("02:00:5E:10:00:01");
        assertEquals("02:00:5e:10:00:01", mac.toString());
        assertEquals(0x02005E100001L, mac.bits());
        assertEquals(mac, MacAddress.parse("02-00-5e-10-00-01"));
        assertEquals(mac, MacAddress.of(new byte[] {2, 0, 0x5e, 0x10, 0, 1}));
        assertArrayEquals(new byte[] {2, 0, 0x5e, 0x10, 0, 1}, mac.toBytes());
        assertEquals(mac.hashCode(), MacAddress.of(0x02005E100001L).hashCode());
        assertNotEquals(mac, MacAddress.BROADCAST);
        assertTrue(MacAddress.BROADCAST.isBroadcast());
        assertTrue(MacAddress.BROADCAST.isMulticast());
        assertFalse(mac.isMulticast());
        assertEquals("ff:ff:ff:ff:ff:ff", MacAddress.BROADCAST.toString());
        for (String bad : new String[] {"", "02:00:5e:10:00", "02:00:5e:10:00:0g", "02:00:5e:10:00:011", "02.00.5e.10.00.01"}) {
            assertThrows(IllegalArgumentException.class, () -> MacAddress.parse(bad), bad);
        }
        MacAddress random = MacAddress.randomLocal();
        assertFalse(random.isMulticast());
        assertEquals(0x02, (random.bits() >>> 40) & 0x03, "locally administered, unicast");
    }

    @Test
    void decodesAndEncodesUntaggedFrames() {
        EmbeddedChannel channel = new EmbeddedChannel(new EthernetCodec());
        ByteBuf in = TestPackets.buf(HEADER + "45000014");
        assertTrue(channel.writeInbound(in));
        EthernetFrame frame = channel.readInbound();
        assertEquals(MacAddress.parse("02:00:00:00:00:01"), frame.destination());
        assertEquals(MacAddress.parse("02:00:00:00:00:02"), frame.source());
        assertEquals(EtherType.IPV4, frame.etherType());
        assertFalse(frame.isTagged());
        assertEquals("45000014", TestPackets.hex(frame.content()));
        // Written back out, it is the same bytes.
        assertTrue(channel.writeOutbound(frame));
        ByteBuf out = channel.readOutbound();
        assertEquals((HEADER + "45000014").replace(" ", ""), TestPackets.hex(out));
        out.release();
        assertEquals(0, in.refCnt());
        assertFalse(channel.finish());
    }

    @Test
    void vlanTaggedFramesAreRecognisedNotMisparsed() {
        String tagged = "020000000001 020000000002 8100 2064 0800 45000014";
        EthernetCodec dropping = new EthernetCodec();
        EmbeddedChannel channel = new EmbeddedChannel(dropping);
        assertFalse(channel.writeInbound(TestPackets.buf(tagged)));
        assertEquals(1, dropping.dropCounters().get(DropReason.VLAN_TAGGED));

        EmbeddedChannel accepting = new EmbeddedChannel(new EthernetCodec().setAcceptTagged(true));
        assertTrue(accepting.writeInbound(TestPackets.buf(tagged)));
        EthernetFrame frame = accepting.readInbound();
        assertTrue(frame.isTagged());
        assertEquals(100, frame.vlanId());
        assertEquals(0x2064, frame.vlanTci());
        assertEquals(EtherType.IPV4, frame.etherType());
        assertEquals("45000014", TestPackets.hex(frame.content()));
        assertTrue(accepting.writeOutbound(frame));
        ByteBuf out = accepting.readOutbound();
        assertEquals(tagged.replace(" ", ""), TestPackets.hex(out));
        out.release();
        assertFalse(channel.finish());
        assertFalse(accepting.finish());
    }

    @Test
    void shortFramesAreDropped() {
        EthernetCodec codec = new EthernetCodec().setAcceptTagged(true);
        EmbeddedChannel channel = new EmbeddedChannel(codec);
        String frame = (HEADER).replace(" ", "");
        for (int cut = 0; cut < 14; cut++) {
            ByteBuf truncated = TestPackets.buf(frame.substring(0, cut * 2) + "");
            if (cut == 0) {
                truncated.release();
                truncated = io.netty.buffer.PooledByteBufAllocator.DEFAULT.heapBuffer(1);
            }
            assertFalse(channel.writeInbound(truncated));
        }
        assertFalse(channel.writeInbound(TestPackets.buf("020000000001 020000000002 8100 20")), "tag cut");
        assertEquals(15, codec.dropCounters().get(DropReason.TRUNCATED));
        assertFalse(channel.finish());
    }

    @Test
    void behindThePiHeader() {
        EmbeddedChannel channel = new EmbeddedChannel(PiCodec.forTap(), new EthernetCodec());
        assertTrue(channel.writeInbound(TestPackets.buf("00000800" + HEADER + "45")));
        EthernetFrame frame = channel.readInbound();
        assertEquals(EtherType.IPV4, frame.etherType());
        assertEquals("45", TestPackets.hex(frame.content()));
        assertTrue(channel.writeOutbound(frame));
        ByteBuf out = channel.readOutbound();
        assertEquals(("00000800" + HEADER + "45").replace(" ", ""), TestPackets.hex(out));
        out.release();
        assertFalse(channel.finish());
    }
}
