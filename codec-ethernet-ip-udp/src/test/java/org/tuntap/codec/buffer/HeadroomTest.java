package org.tuntap.codec.buffer;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.CompositeByteBuf;
import org.junit.jupiter.api.Test;
import org.tuntap.codec.TestPackets;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;

class HeadroomTest {

    private final ByteBufAllocator alloc = ByteBufAllocator.DEFAULT;

    @Test
    void layersPrependInTheSameBufferWithoutCopying() {
        ByteBuf payload = TestPackets.buf("cafe");
        ByteBuf udp = Headroom.prepend(alloc, payload, 2);
        payload.release(); // what an encoder's caller does after encode
        Headroom.headerBuffer(udp).setShort(udp.readerIndex(), 0x1111);
        ByteBuf ip = Headroom.prepend(alloc, udp, 3);
        udp.release();
        assertSame(udp, ip, "the same composite, reader index moved back");
        ByteBuf header = Headroom.headerBuffer(ip);
        header.setMedium(ip.readerIndex(), 0x222222);
        assertEquals("2222221111cafe", TestPackets.hex(ip));
        assertEquals(Headroom.HEADROOM - 3, Headroom.available(ip), "the first header sits right after the reserve");
        payload.setByte(payload.readerIndex(), 0xbe); // the payload is referenced, not copied
        assertEquals("2222221111befe", TestPackets.hex(ip));
        ip.release();
        assertEquals(0, payload.refCnt());
    }

    @Test
    void foreignOrSharedBuffersGetANewComposite() {
        ByteBuf payload = TestPackets.buf("cafe");
        payload.readerIndex(1); // room before the reader index of someone else's buffer is never used
        ByteBuf out = Headroom.prepend(alloc, payload, 1);
        assertNotSame(payload, out);
        Headroom.headerBuffer(out).setByte(out.readerIndex(), 0x01);
        assertEquals("01fe", TestPackets.hex(out));
        assertEquals("cafe", TestPackets.hex(payload.readerIndex(0)));

        out.retain(); // shared: the next layer must not move its reader index
        ByteBuf again = Headroom.prepend(alloc, out, 1);
        assertNotSame(out, again);
        again.setByte(again.readerIndex(), 0x02);
        assertEquals("0201fe", TestPackets.hex(again));
        assertEquals("01fe", TestPackets.hex(out));
        again.release();
        out.release();
        out.release();
        payload.release();
        assertEquals(0, payload.refCnt());
    }

    @Test
    void consolidatedCompositesLoseTheirHeadroom() {
        ByteBuf payload = TestPackets.buf("cafe");
        ByteBuf out = Headroom.prepend(alloc, payload, 1);
        payload.release();
        ((CompositeByteBuf) out).consolidate();
        ByteBuf again = Headroom.prepend(alloc, out, 1);
        assertNotSame(out, again);
        again.release();
        out.release();
    }
}
