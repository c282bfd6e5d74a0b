package org.tuntap.testkit.contract;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.buffer.UnpooledByteBufAllocator;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelOption;
import io.netty.channel.WriteBufferWaterMark;
import io.netty.channel.socket.DatagramPacket;
import io.netty.util.ReferenceCountUtil;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.tuntap.codec.ParseResult;
import org.tuntap.codec.ipv4.Ipv4Codec;
import org.tuntap.codec.udp.UdpCodec;
import org.tuntap.codec.udp.UdpPackets;
import org.tuntap.testkit.UdpReceiver;
import org.tuntap.testkit.contract.ChannelEvents.Event;
import org.tuntap.testkit.contract.ChannelEvents.Kind;
import org.tuntap.testkit.support.DatagramEcho;
import org.tuntap.testkit.support.Pipelines;
import org.tuntap.transport.TunChannel;
import org.tuntap.transport.TunChannelOption;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.tuntap.testkit.contract.TunFixture.APP;
import static org.tuntap.testkit.contract.TunFixture.TIMEOUT_SECONDS;

/**
 * What a {@link TunChannel} does whatever its fd layer, run on each layer by a subclass that
 * supplies the {@link TunFixture} (as Netty's testsuite shares its tests across transports).
 * Every test drives real traffic through the layer; waits are on events, never sleeps. Where a
 * test shows that something does <em>not</em> happen, it first lets the loop go round, then
 * allows a short grace period for the event that must not come.
 */
public abstract class TunChannelContractTest {
    /** How long "nothing more happens" is watched for, after the loop has gone round. */
    private static final long QUIET_MILLIS = 150;

    protected TunFixture fixture;

    /** A fresh fixture of the layer under test. */
    protected abstract TunFixture newFixture() throws Exception;

    @BeforeEach
    void openFixture() throws Exception {
        fixture = newFixture();
    }

    @AfterEach
    void closeFixture() throws Exception {
        if (fixture != null) {
            fixture.close();
        }
    }

    @Test
    void bindingToATemplateYieldsARealNameAndAnExplicitNameIsKept() throws Exception {
        TunChannel templated = fixture.bind(fixture.bootstrap().handler(new ChannelEvents()), "ctr%d");
        TunChannel named = fixture.bind(fixture.bootstrap().handler(new ChannelEvents()), "ctrnamed");

        String realName = templated.localAddress().name();
        assertTrue(realName.matches("ctr\\d+"), realName);
        assertEquals("ctrnamed", named.localAddress().name());
        assertTrue(templated.isActive() && named.isActive());
        assertTrue(templated.fd() >= 0 && named.fd() >= 0);
        assertNotEquals(templated.fd(), named.fd());
    }

    @Test
    void anInjectedDatagramArrivesAsExactlyOnePacket() throws Exception {
        ChannelEvents events = new ChannelEvents();
        fixture.bindConnected(fixture.bootstrap().handler(events), "ctr%d");

        fixture.inject(bytes("first"));
        assertDatagram(bytes("first"), nextRead(events));
        // Nothing else came between: the very next packet is the next datagram.
        fixture.inject(bytes("second"));
        assertDatagram(bytes("second"), nextRead(events));
    }

    @Test
    void anEchoThroughTheCodecsIsByteExact() throws Exception {
        DatagramEcho echo = new DatagramEcho();
        fixture.bindConnected(fixture.bootstrap()
                .handler(Pipelines.of(ch -> ch.pipeline().addLast(new Ipv4Codec(), new UdpCodec(), echo))),
                "ctr%d");
        for (int size : new int[] {0, 1, 2, 100, 1000, 1472}) {
            byte[] payload = Pipelines.payload(size);
            fixture.inject(payload);

            DatagramEcho.Seen seen = echo.next();
            assertNotNull(seen, "the pipeline saw no datagram of " + size + " bytes");
            assertArrayEquals(payload, seen.payload());
            assertEquals(fixture.kernelAddress(), seen.sender());
            assertEquals(APP, seen.recipient());

            UdpReceiver.Datagram reply = fixture.receive();
            assertNotNull(reply, "no echo of " + size + " bytes");
            assertArrayEquals(payload, reply.payload());
            assertEquals(APP, reply.sender());
        }
    }

    @Test
    void withAutoReadOffNothingIsReadUntilReadAndThenOnePacketPerRead() throws Exception {
        ChannelEvents events = new ChannelEvents();
        TunChannel channel = fixture.bindConnected(fixture.bootstrap()
                .option(ChannelOption.AUTO_READ, false).handler(events), "ctr%d");
        for (String name : List.of("one", "two", "three")) {
            fixture.inject(bytes(name));
        }
        assertNothingMore(channel, events, "before any read()");

        for (String name : List.of("one", "two", "three")) {
            channel.read();
            assertDatagram(bytes(name), nextOf(events, Kind.READ).packet());
            assertEquals(Kind.READ_COMPLETE, events.next().kind());
            assertNothingMore(channel, events, "after the read() that got " + name);
        }
    }

    @Test
    void theReadBudgetBoundsEveryReadinessEvent() throws Exception {
        int budget = 2;
        int datagrams = 5;
        ChannelEvents events = new ChannelEvents();
        TunChannel channel = fixture.bindConnected(fixture.bootstrap()
                .option(ChannelOption.AUTO_READ, false)
                .option(TunChannelOption.READ_BUDGET, budget)
                .handler(events), "ctr%d");
        assertEquals(budget, channel.config().getOption(TunChannelOption.READ_BUDGET));
        for (int i = 0; i < datagrams; i++) {
            fixture.inject(bytes("datagram " + i));
        }
        assertNothingMore(channel, events, "before reading starts");

        channel.config().setAutoRead(true); // all five are queued: the first event could take them all
        List<Integer> batches = new ArrayList<>();
        int inBatch = 0;
        int read = 0;
        while (read < datagrams) {
            Event event = events.next();
            assertNotNull(event, "read " + read + " of " + datagrams + " in batches " + batches);
            if (event.kind() == Kind.READ) {
                assertDatagram(bytes("datagram " + read), event.packet());
                read++;
                inBatch++;
            } else {
                assertEquals(Kind.READ_COMPLETE, event.kind(), String.valueOf(event));
                batches.add(inBatch);
                inBatch = 0;
            }
        }
        Event last = events.next();
        assertEquals(Kind.READ_COMPLETE, last.kind(), () -> "after the last datagram: " + last);
        batches.add(inBatch);
        batches.removeIf(size -> size == 0); // a readiness event that found nothing more is no batch
        assertEquals(budget, batches.get(0), "the first event reads up to the budget: " + batches);
        assertTrue(batches.stream().allMatch(size -> size <= budget), "a batch over the budget: " + batches);
    }

    @Test
    void aHandlerThatThrowsDoesNotStopReading() throws Exception {
        ChannelEvents events = new ChannelEvents();
        TunChannel channel = fixture.bindConnected(fixture.bootstrap()
                .handler(Pipelines.of(ch -> ch.pipeline().addLast(new ThrowOnFirstPacket(), events))),
                "ctr%d");

        fixture.inject(bytes("makes the handler throw"));
        Event failure = nextOf(events, Kind.EXCEPTION);
        assertEquals(ThrowOnFirstPacket.MESSAGE, failure.cause().getMessage());

        fixture.inject(bytes("still read"));
        assertDatagram(bytes("still read"), nextOf(events, Kind.READ).packet());
        assertTrue(channel.isActive());
    }

    @Test
    void closeClosesTheFdAndStopsReading() throws Exception {
        ChannelEvents events = new ChannelEvents();
        TunChannel channel = fixture.bindConnected(fixture.bootstrap().handler(events), "ctr%d");
        fixture.inject(bytes("before close"));
        assertDatagram(bytes("before close"), nextRead(events));
        int fd = channel.fd();
        assertTrue(fixture.isDeviceFdOpen(fd));

        channel.close().sync();
        assertEquals(-1, channel.fd());
        assertFalse(channel.isOpen());
        assertFalse(fixture.isDeviceFdOpen(fd), "fd " + fd + " still open");
        ChannelFuture again = channel.close().await();
        assertTrue(again.isSuccess(), "a second close: " + again.cause());

        assertEquals(Kind.INACTIVE, nextOf(events, Kind.INACTIVE).kind());
        assertNothingMore(channel, events, "after close");
    }

    @Test
    void writingAnythingButAByteBufFailsWithUnsupportedOperationAndReleasesIt() throws Exception {
        TunChannel channel = fixture.bind(fixture.bootstrap().handler(new ChannelEvents()), "ctr%d");
        DatagramPacket datagram = new DatagramPacket(Unpooled.copiedBuffer(bytes("not a packet")), APP);

        ChannelFuture write = channel.writeAndFlush(datagram).await();
        assertInstanceOf(UnsupportedOperationException.class, write.cause());
        assertEquals(0, datagram.refCnt(), "the refused message was not released");

        ChannelFuture text = channel.writeAndFlush("text").await();
        assertInstanceOf(UnsupportedOperationException.class, text.cause());
        assertTrue(channel.isActive(), "a refused write does not close the channel");
    }

    @Test
    void writabilityFollowsTheWaterMarks() throws Exception {
        ChannelEvents events = new ChannelEvents();
        TunChannel channel = fixture.bindConnected(fixture.bootstrap()
                .option(ChannelOption.WRITE_BUFFER_WATER_MARK, new WriteBufferWaterMark(64, 256))
                .handler(events), "ctr%d");
        assertTrue(channel.isWritable());
        assertTrue(channel.bytesBeforeUnwritable() > 0);

        byte[] payload = Pipelines.payload(300); // over the high mark on its own
        ByteBuf packet = UdpPackets.build(UnpooledByteBufAllocator.DEFAULT, APP, fixture.kernelAddress(),
                Unpooled.wrappedBuffer(payload));
        boolean writableWhileQueued = channel.eventLoop().submit(() -> {
            channel.write(packet);
            return channel.isWritable();
        }).get(TIMEOUT_SECONDS, TimeUnit.SECONDS);
        assertFalse(writableWhileQueued, "a queued write over the high water mark");
        Event unwritable = nextOf(events, Kind.WRITABILITY);
        assertFalse(unwritable.writable());

        channel.flush();
        Event writable = nextOf(events, Kind.WRITABILITY);
        assertTrue(writable.writable(), "writable again once flushed");
        assertTrue(channel.isWritable());
        UdpReceiver.Datagram sent = fixture.receive();
        assertNotNull(sent, "the flushed packet never reached the kernel side");
        assertArrayEquals(payload, sent.payload());
        assertEquals(APP, sent.sender());
    }

    // ---- helpers ----

    private static byte[] bytes(String text) {
        return text.getBytes(StandardCharsets.UTF_8);
    }

    /** The next packet read, skipping read completions; fails on anything else or a timeout. */
    private static byte[] nextRead(ChannelEvents events) throws InterruptedException {
        return nextOf(events, Kind.READ).packet();
    }

    /** The next event of {@code kind}, skipping read completions only. */
    private static Event nextOf(ChannelEvents events, Kind kind) throws InterruptedException {
        for (;;) {
            Event event = events.next();
            assertNotNull(event, "no " + kind + " within " + TIMEOUT_SECONDS + " s");
            if (event.kind() == kind) {
                return event;
            }
            if (event.kind() == Kind.EXCEPTION) {
                throw new AssertionError("expected " + kind + ", the pipeline got an exception", event.cause());
            }
            assertEquals(Kind.READ_COMPLETE, event.kind(), "expected " + kind + ", got " + event);
        }
    }

    /** {@code packet} is an IPv4 UDP datagram from the kernel side to the application, carrying {@code payload}. */
    private void assertDatagram(byte[] payload, byte[] packet) {
        ByteBuf buf = Unpooled.wrappedBuffer(packet);
        try {
            ParseResult<DatagramPacket> parsed = UdpPackets.parse(buf);
            assertTrue(parsed.isOk(), "not an IPv4 UDP packet: " + parsed + " " + ByteBufUtil.hexDump(buf));
            DatagramPacket datagram = parsed.value();
            try {
                assertArrayEquals(payload, ByteBufUtil.getBytes(datagram.content()));
                assertEquals(fixture.kernelAddress(), datagram.sender());
                assertEquals(APP, datagram.recipient());
            } finally {
                datagram.release();
            }
        } finally {
            buf.release();
        }
    }

    /**
     * Lets the channel's loop go round (twice, so readiness already pending is handled), then
     * checks that no event comes within a short grace period.
     */
    private static void assertNothingMore(Channel channel, ChannelEvents events, String when) throws Exception {
        for (int i = 0; i < 2; i++) {
            channel.eventLoop().submit(() -> { }).get(TIMEOUT_SECONDS, TimeUnit.SECONDS);
        }
        Event event = events.nextWithin(QUIET_MILLIS);
        assertNull(event, when + ": unexpected " + event);
    }

    /** Releases the first packet and throws, as a buggy handler would; passes the rest on. */
    private static final class ThrowOnFirstPacket extends ChannelInboundHandlerAdapter {
        static final String MESSAGE = "a handler failed (on purpose)";
        private boolean thrown;

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            if (!thrown) {
                thrown = true;
                ReferenceCountUtil.release(msg);
                throw new IllegalStateException(MESSAGE);
            }
            ctx.fireChannelRead(msg);
        }
    }
}
