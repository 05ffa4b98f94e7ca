// The feed page: the "Create room" dialog, and the posts' times written with Intl in the
// person's language and time zone. Rooms' strip keeps its own cards live (rooms/js/strip.js,
// loaded by {% rooms_strip %}).
import { localizeTimes } from "../../rooms/js/lib/i18n.js";
import { setUpCreateRoom } from "./create-room.js";

localizeTimes(document.querySelector(".posts") || document.createElement("div"));
setUpCreateRoom();
document.body.dataset.ready = "true";
