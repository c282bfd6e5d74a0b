package org.tuntap.testkit;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.ManualIoEventLoop;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.MockTicker;
import io.netty.util.concurrent.Ticker;
import io.netty.util.internal.PlatformDependent;
import org.tuntap.transport.TunAddress;
import org.tuntap.transport.TunChannel;
import org.tuntap.transport.TunChannelOption;
import org.tuntap.transport.TunMode;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.concurrent.TimeUnit;

/**
 * Test a pipeline against a tunnel the way {@link io.netty.channel.embedded.EmbeddedChannel} tests
 * a handler: no root, no threads, no sleeps.
 *
 * <pre>{@code
 * try (TunnelHarness harness = TunnelHarness.builder().handlers(new MyIpHandler()).build()) {
 *     harness.writeToTunnel(packetBytes);          // the kernel routes a packet to the device
 *     byte[] reply = harness.readFromTunnel();     // what the pipeline wrote back to the device
 *     assertFalse(harness.finish());               // closes; fails if a buffer leaked
 * }
 * }</pre>
 *
 * <p>Underneath is the real {@link TunChannel} on a {@link MemoryIoSystem}, registered with a
 * {@link ManualIoEventLoop} owned by the thread that built the harness. Every method that puts
 * something in runs the loop until it has nothing left to do, so its effects are visible when the
 * call returns; {@link #runPendingTasks()} does that on its own. Time stands still unless the test
 * moves it with {@link #advanceTimeBy}.
 *
 * <p>The channel's buffers come from a {@link TrackingAllocator}; {@link #finish()} fails if any
 * of them (packets read, headers the codecs allocated) is still referenced after the channel
 * closed and unread messages were released.
 */
public final class TunnelHarness implements AutoCloseable {

    /** Runs of the loop in one {@link #runPendingTasks()} before it is judged to spin. */
    private static final int MAX_RUNS = 100_000;

    private final MemoryIoSystem ioSystem;
    private final MockTicker ticker = Ticker.newMockTicker();
    private final ManualIoEventLoop loop;
    private final TrackingAllocator allocator;
    private final TunChannel channel;
    private final Tunnel tunnel;
    private final Queue<Object> inbound = new ArrayDeque<>();
    private final List<Throwable> exceptions = new ArrayList<>();
    private boolean finished;

    private TunnelHarness(Builder builder) {
        ioSystem = builder.ioSystem != null ? builder.ioSystem : new MemoryIoSystem();
        allocator = new TrackingAllocator();
        loop = new ManualIoEventLoop(null, Thread.currentThread(), MemoryIoHandler.newFactory(), ticker);
        channel = new TunChannel(ioSystem);
        channel.config().setAllocator(allocator);
        channel.config().setMode(builder.mode);
        channel.config().setPacketInfo(builder.packetInfo);
        for (Map.Entry<ChannelOption<?>, Object> option : builder.options.entrySet()) {
            setOption(option.getKey(), option.getValue());
        }
        ChannelHandler[] handlers = builder.handlers.toArray(new ChannelHandler[0]);
        channel.pipeline().addLast(new ChannelInitializer<TunChannel>() {
            @Override
            protected void initChannel(TunChannel ch) {
                ch.pipeline().addLast(handlers);
                ch.pipeline().addLast(new InboundCollector());
            }
        });
        ChannelFuture registered = loop.register(channel);
        runPendingTasks();
        rethrowIfFailed(registered, "register");
        ChannelFuture bound = channel.bind(new TunAddress(builder.name));
        runPendingTasks();
        rethrowIfFailed(bound, "bind");
        tunnel = ioSystem.tunnel(channel.fd());
    }

    @SuppressWarnings("unchecked")
    private <T> void setOption(ChannelOption<T> option, Object value) {
        if (!channel.config().setOption(option, (T) value)) {
            throw new IllegalArgumentException("TunChannel does not support option " + option);
        }
    }

    private static void rethrowIfFailed(ChannelFuture future, String what) {
        if (!future.isDone()) {
            throw new IllegalStateException(what + " did not complete while the loop ran");
        }
        if (!future.isSuccess()) {
            PlatformDependent.throwException(future.cause());
        }
    }

    /** A TUN harness without packet information around {@code handlers}. */
    public static TunnelHarness of(ChannelHandler... handlers) {
        return builder().handlers(handlers).build();
    }

    /**
     * A builder: TUN, no packet information, no handlers, a new {@link MemoryIoSystem}.
     *
     * @return a new builder
     */
    public static Builder builder() {
        return new Builder();
    }

    /** The channel under test, bound to a device of the in-memory system. */
    public TunChannel channel() {
        return channel;
    }

    /** The device's side of the test: what the kernel would see. */
    public Tunnel tunnel() {
        return tunnel;
    }

    /** The in-memory fd layer the channel's device lives in. */
    public MemoryIoSystem ioSystem() {
        return ioSystem;
    }

    /** The allocator the channel's buffers come from. */
    public TrackingAllocator allocator() {
        return allocator;
    }

    /**
     * Delivers an IP packet to the device, as the kernel would route one to it (framed in
     * Ethernet in TAP mode, behind a PI header if packet information is on), then runs the loop.
     * In TAP mode the network first resolves the program's MAC by ARP or neighbour discovery, as
     * the kernel does (see {@link Tunnel#addToReadBuffer(byte[])}): the exchange happens within
     * the loop's run, and the program's answer is among what it wrote.
     */
    public TunnelHarness writeToTunnel(byte[] packet) {
        tunnel.addToReadBuffer(packet);
        runPendingTasks();
        return this;
    }

    /**
     * Delivers exactly these bytes as one packet (an Ethernet frame of your own in TAP mode, or a
     * malformed packet), behind a PI header if packet information is on; then runs the loop.
     */
    public TunnelHarness writeRawToTunnel(byte[] packet) {
        tunnel.addRawToReadBuffer(packet);
        runPendingTasks();
        return this;
    }

    /**
     * The oldest packet the pipeline wrote to the device, exactly as the kernel would get it (PI
     * header included when on), or null. Taking it makes room in the device, so the loop then
     * runs to let waiting writes go on.
     */
    public byte[] readFromTunnel() {
        byte[] packet = tunnel.pollWritten();
        if (packet != null) {
            runPendingTasks();
        }
        return packet;
    }

    /**
     * The oldest message that went through the whole pipeline inbound without being consumed, or
     * null. The caller owns it (release it if it is reference-counted).
     */
    @SuppressWarnings("unchecked")
    public <T> T readInbound() {
        return (T) inbound.poll();
    }

    /** Writes and flushes messages from the tail of the pipeline, then runs the loop. */
    public TunnelHarness writeOutbound(Object... messages) {
        for (Object message : messages) {
            channel.write(message);
        }
        channel.flush();
        runPendingTasks();
        return this;
    }

    /**
     * Runs the loop until it has no tasks and no ready I/O left.
     *
     * @throws IllegalStateException if it never runs out of work (a channel spinning on readiness)
     */
    public void runPendingTasks() {
        for (int runs = 0; runs < MAX_RUNS; runs++) {
            if (loop.runNow() == 0) {
                return;
            }
        }
        throw new IllegalStateException("the event loop still had work after " + MAX_RUNS
                + " runs: something spins on readiness or reschedules itself forever");
    }

    /** Moves the loop's clock forward and runs what became due. */
    public void advanceTimeBy(long duration, TimeUnit unit) {
        ticker.advance(duration, unit);
        runPendingTasks();
    }

    /**
     * Rethrows the first exception that reached the end of the pipeline unhandled, if any (and
     * forgets them all), as {@code EmbeddedChannel.checkException()} does.
     */
    public void checkException() {
        if (exceptions.isEmpty()) {
            return;
        }
        Throwable first = exceptions.get(0);
        exceptions.clear();
        PlatformDependent.throwException(first);
    }

    /** Exceptions that reached the end of the pipeline, oldest first (not cleared). */
    public List<Throwable> exceptions() {
        return List.copyOf(exceptions);
    }

    /**
     * Closes the channel, runs the loop, releases unread inbound messages and takes unread
     * written packets, terminates the loop (at once: no quiet period), then checks that every buffer the channel's allocator handed out was
     * released.
     *
     * @return whether anything was left unread (inbound messages or written packets)
     * @throws AssertionError if a buffer leaked
     */
    public boolean finish() {
        if (finished) {
            return false;
        }
        finished = true;
        channel.close();
        runPendingTasks();
        boolean leftovers = !inbound.isEmpty() || tunnel.writeBufferSize() > 0;
        Object message;
        while ((message = inbound.poll()) != null) {
            ReferenceCountUtil.release(message);
        }
        tunnel.takeAllWritten();
        terminateLoop();
        int leaked = allocator.unreleased().size();
        if (leaked > 0) {
            throw new AssertionError(leaked + " buffer(s) allocated by " + channel
                    + " or its handlers were never released (refCnt > 0): " + describe(allocator));
        }
        return leftovers;
    }

    /**
     * Ends the loop at once. Not {@code shutdownGracefully}: its quiet period is measured on the
     * loop's clock, which stands still here, so it would sleep 100 ms per run and never end.
     * {@code shutdown()} skips the quiet period; the channel is closed and its tasks have run.
     */
    @SuppressWarnings("deprecation")
    private void terminateLoop() {
        loop.shutdown();
        runPendingTasks();
        if (!loop.isTerminated()) {
            throw new IllegalStateException("the harness's event loop did not terminate");
        }
    }

    private static String describe(TrackingAllocator allocator) {
        StringBuilder text = new StringBuilder();
        for (ByteBuf buf : allocator.unreleased()) {
            text.append("\n  ").append(buf);
        }
        return text.toString();
    }

    /** {@link #finish()}, ignoring leftovers. */
    @Override
    public void close() {
        finish();
    }

    /** What reaches the end of the pipeline, kept for {@link #readInbound()} and {@link #checkException()}. */
    private final class InboundCollector extends ChannelInboundHandlerAdapter {
        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            inbound.add(msg);
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            exceptions.add(cause);
        }
    }

    /** Settings of the channel under test. */
    public static final class Builder {
        private TunMode mode = TunMode.TUN;
        private boolean packetInfo;
        private String name = "";
        private MemoryIoSystem ioSystem;
        private final List<ChannelHandler> handlers = new ArrayList<>();
        private final Map<ChannelOption<?>, Object> options = new LinkedHashMap<>();

        private Builder() {
        }

        /** TUN (default) or TAP. */
        public Builder mode(TunMode mode) {
            this.mode = mode;
            return this;
        }

        /** Whether packets carry the 4-byte PI header (default false). */
        public Builder packetInfo(boolean packetInfo) {
            this.packetInfo = packetInfo;
            return this;
        }

        /** The name or {@code %d} template to bind to (default: the kernel's template for the mode). */
        public Builder name(String name) {
            this.name = name;
            return this;
        }

        /** Any other channel option, such as {@code AUTO_READ} or {@link TunChannelOption#MAX_PACKET_SIZE}. */
        public <T> Builder option(ChannelOption<T> option, T value) {
            options.put(option, value);
            return this;
        }

        /** The handlers of the pipeline, in order. */
        public Builder handlers(ChannelHandler... handlers) {
            this.handlers.addAll(Arrays.asList(handlers));
            return this;
        }

        /** The in-memory system to open the device on (default: a new one). */
        public Builder ioSystem(MemoryIoSystem ioSystem) {
            this.ioSystem = ioSystem;
            return this;
        }

        /**
         * Registers the channel with the harness's loop, binds it, and runs the loop until idle.
         *
         * @return the harness, channel active
         */
        public TunnelHarness build() {
            return new TunnelHarness(this);
        }
    }
}
