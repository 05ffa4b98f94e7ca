// The feed page: the "Create room" dialog. Rooms' strip keeps its own cards live
// (rooms/js/strip.js, loaded by {% rooms_strip %}).
import { setUpCreateRoom } from "./create-room.js";

setUpCreateRoom();
document.body.dataset.ready = "true";
